/**
 * The runtime stored as a coordination record and execution records (domain/execution/stored.ts,
 * migration 1767900000000-ExecutionRecords): what the rows hold, and an installation whose
 * runtimes are still version 1 (one value with every execution and its document) upgraded with an
 * execution waiting for approval, which then finishes.
 */
import crypto from "node:crypto";
import { Client } from "pg";
import { DataSource } from "typeorm";
import { entities, migrations } from "../../src/persistence/data-source";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { CREATE, manualApproval, sourceThen } from "../support/documents";
import { deleteStreams } from "../support/nats";
import { dataOf, startTestServer } from "../support/server";
import { eventually } from "../support/wait";
import { approvalWaiting, approveUntilSucceeded } from "../support/approvals";
import { GIT, TestWorker } from "../support/worker";

jest.setTimeout(90_000);

let db: TestDatabase;
let sql: Client;
let worker: TestWorker | undefined;
const prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
const env = () => ({ DATABASE_URL: db.url, SLUICE_NATS_PREFIX: prefix });

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  await worker?.stop();
  await sql?.end();
  await deleteStreams(prefix);
  await db?.drop();
});

const STATE = `{ pipeline(name: "upgrade") { state { stages { name latestExecution { executionId status } actions { name latestExecution { status } } } } } }`;

it("keeps shared state and each execution apart, and upgrades version 1 runtimes with executions in flight", async () => {
  let t = await startTestServer({ env: env() });
  worker = await TestWorker.start(t.natsPrefix, [GIT], () => ({ outcome: "Succeeded" }));
  let executionId: string;
  let stateBefore: unknown;
  try {
    dataOf(
      await t.gql(CREATE, { input: sourceThen("upgrade", { name: "Ship", actions: [manualApproval()] }) }),
    );
    executionId = await eventually(async () => {
      const rows = await sql.query<{ id: string }>(`SELECT id FROM pipeline_executions`);
      return rows.rows[0]?.id;
    });
    await approvalWaiting(t, executionId);

    // Version 2: the coordination record holds no execution and no document; the execution's
    // record holds no document.
    const runtime = (await sql.query(`SELECT state, revision FROM pipeline_runtimes`)).rows[0];
    expect(runtime.state).toMatchObject({ schemaVersion: 2, pipelineName: "upgrade" });
    expect(runtime.state).not.toHaveProperty("executions");
    expect(JSON.stringify(runtime.state)).not.toContain("actionTypeId");
    expect(Number(runtime.revision)).toBeGreaterThan(1);
    const record = (await sql.query(`SELECT runtime FROM pipeline_executions WHERE id = $1`, [executionId]))
      .rows[0].runtime;
    expect(record).toMatchObject({ schemaVersion: 2, executionId, status: "InProgress", pipelineVersion: 1 });
    expect(record).not.toHaveProperty("document");
    stateBefore = dataOf(await t.gql(STATE)).pipeline.state;
  } finally {
    await t.stop();
  }

  // Back to version 1 with the migration's own `down`: one value, the execution with its document.
  const typeorm = new DataSource({
    type: "postgres",
    url: db.url,
    entities,
    migrations,
    migrationsRun: false,
  });
  await typeorm.initialize();
  try {
    // Later migrations are undone first (each has a `down`), then this one.
    const last = async (): Promise<string> =>
      (await typeorm.query(`SELECT name FROM migrations ORDER BY timestamp DESC LIMIT 1`))[0].name;
    while ((await last()) !== "ExecutionRecords1767900000000") await typeorm.undoLastMigration();
    await typeorm.undoLastMigration();
  } finally {
    await typeorm.destroy();
  }
  const version1 = (await sql.query(`SELECT state FROM pipeline_runtimes`)).rows[0].state;
  expect(version1).not.toHaveProperty("schemaVersion");
  expect(version1.executions[executionId!]).toMatchObject({
    executionId: executionId!,
    status: "InProgress",
  });
  expect(version1.executions[executionId!].document.stages.map((s: { name: string }) => s.name)).toEqual([
    "Source",
    "Ship",
  ]);

  // A server of this version upgrades it at start; the execution carries on where it was.
  t = await startTestServer({ env: env() });
  try {
    const upgraded = (await sql.query(`SELECT state FROM pipeline_runtimes`)).rows[0].state;
    expect(upgraded).toMatchObject({ schemaVersion: 2 });
    expect(upgraded).not.toHaveProperty("executions");
    expect(dataOf(await t.gql(STATE)).pipeline.state).toEqual(stateBefore);
    await approveUntilSucceeded(t, executionId!);
    // Final, but the stages still point at it: the runtime keeps its record (written as it ended).
    const kept = (await sql.query(`SELECT runtime FROM pipeline_executions WHERE id = $1`, [executionId!]))
      .rows[0];
    expect(kept.runtime).toMatchObject({ status: "Succeeded" });
  } finally {
    await t.stop();
  }
});
