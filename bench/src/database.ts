import crypto from "node:crypto";
import { Client } from "pg";
import { DATABASE_URL } from "./env";

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
  /**
   * Transactions committed and rolled back in this database so far (pg_stat_database; each
   * statement outside a transaction counts as one). Backends report at most once a second, so a
   * difference over a window is good to about a second of work at each end.
   */
  transactions(): Promise<number>;
  /**
   * Notifications not yet delivered: rows in the notification inbox (events not yet turned into
   * deliveries) plus deliveries still PENDING.
   */
  undeliveredNotifications(): Promise<number>;
}

async function onAdminDatabase<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `sluice_bench_<pid>_<random>` on the configured PostgreSQL; `drop()` removes it. */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `sluice_bench_${process.pid}_${crypto.randomBytes(4).toString("hex")}`;
  await onAdminDatabase((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      onAdminDatabase((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
    transactions: () =>
      onAdminDatabase(async (c) => {
        const { rows } = await c.query<{ n: string }>(
          `SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1`,
          [name],
        );
        return Number(rows[0]?.n ?? 0);
      }),
    undeliveredNotifications: async () => {
      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>(
          `SELECT (SELECT count(*) FROM notification_inbox)
                + (SELECT count(*) FROM notification_deliveries WHERE status = 'PENDING') AS n`,
        );
        return Number(rows[0]?.n ?? 0);
      } finally {
        await client.end();
      }
    },
  };
}
