import crypto from "node:crypto";
import { Client } from "pg";

/** The PostgreSQL the suite uses; each test file gets a database of its own on it. */
export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: BASE_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `sluice_test_<random>`; `drop()` removes it (closing what still connects to it). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sluice_test_${process.pid}_${crypto.randomBytes(4).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: withDatabase(BASE_DATABASE_URL, name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * Where the counts the engine, retention and import keep (execution_counts, what /metrics serves
 * as sluice_executions) differ from counting the executions: every test server checks it before
 * its database goes (TestServer.stop), so a statement that changes an execution's status without
 * its count fails the test that ran it. Empty when they agree or the table is not there.
 */
export async function executionCountDrift(
  url: string,
): Promise<Array<{ pipeline: string; status: string; kept: number; counted: number }>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const table = await client.query(`SELECT to_regclass('execution_counts') IS NOT NULL AS present`);
    if (!(table.rows[0] as { present: boolean }).present) return [];
    const { rows } = await client.query(
      `SELECT coalesce(c.pipeline_id, e.pipeline_id)::text AS pipeline, coalesce(c.status, e.status) AS status,
              coalesce(c.count, 0)::int AS kept, coalesce(e.n, 0)::int AS counted
         FROM (SELECT * FROM execution_counts WHERE count <> 0) c
         FULL JOIN (SELECT pipeline_id, status, count(*) AS n FROM pipeline_executions GROUP BY 1, 2) e
           ON e.pipeline_id = c.pipeline_id AND e.status = c.status
        WHERE coalesce(c.count, 0) <> coalesce(e.n, 0)`,
    );
    return rows;
  } finally {
    await client.end();
  }
}
