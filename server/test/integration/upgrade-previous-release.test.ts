/**
 * An installation the previous release filled, upgraded by this one. `fixtures/previous-release.sql`
 * is a `pg_dump --inserts` of a database that release's own server and a test worker filled
 * (commit abc87e3, the last before the runtime was split into a coordination record and execution
 * records; the same test master key as here): pipeline "finished" with one succeeded execution,
 * pipeline "upgrade" with an execution waiting for a manual approval. Its runtimes are version 1:
 * one value per pipeline, every execution in it with its pinned document.
 *
 * This release starts on it, runs its later migrations (1767900000000-ExecutionRecords among them),
 * serves what was there unchanged, finishes the waiting execution and runs new ones.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deleteStreams } from "../support/nats";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { approveUntilSucceeded } from "../support/approvals";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(90_000);

const FIXTURE = path.join(__dirname, "..", "fixtures", "previous-release.sql");
const prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
let db: TestDatabase;
let sql: Client;
let t: TestServer | undefined;
let worker: TestWorker | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new Client({ connectionString: db.url });
  await sql.connect();
  // The dump's statements in one simple query (its search_path setting stays in this session).
  await sql.query(fs.readFileSync(FIXTURE, "utf8"));
});

afterAll(async () => {
  await worker?.stop();
  await t?.stop();
  await sql?.end();
  await deleteStreams(prefix);
  await db?.drop();
});

const EXECUTION = `query ($id: ID!) {
  pipelineExecution(id: $id) {
    status pipelineVersion
    stages { name status actions { name status approvalPending id } }
  }
}`;
const EXECUTIONS = `query ($name: String!) { pipeline(name: $name) { executions { nodes { id status } } } }`;

it("starts on the previous release's database: version 1 runtimes become records, and every execution carries on", async () => {
  // As the previous release left it.
  const before = await sql.query<{ name: string; state: Record<string, unknown> }>(
    `SELECT p.name, r.state FROM public.pipeline_runtimes r JOIN public.pipelines p ON p.id = r.pipeline_id ORDER BY p.name`,
  );
  expect(before.rows.map((r) => r.name)).toEqual(["finished", "upgrade"]);
  const old = before.rows.find((r) => r.name === "upgrade")!.state;
  expect(old).not.toHaveProperty("schemaVersion");
  const [waitingId, waiting] = Object.entries(
    old.executions as Record<string, { status: string; document: unknown }>,
  )[0]!;
  expect(waiting.status).toBe("InProgress");
  expect(waiting.document).toMatchObject({ name: "upgrade" });
  const migrated = await sql.query<{ name: string }>(
    `SELECT name FROM public.migrations WHERE name = 'ExecutionRecords1767900000000'`,
  );
  expect(migrated.rows).toEqual([]);

  t = await startTestServer({ env: { DATABASE_URL: db.url, SLUICE_NATS_PREFIX: prefix } });
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], () => ({ outcome: "Succeeded" }));

  // Version 2: the coordination record holds no execution and no document.
  const after = await sql.query<{ name: string; state: Record<string, unknown> }>(
    `SELECT p.name, r.state FROM public.pipeline_runtimes r JOIN public.pipelines p ON p.id = r.pipeline_id ORDER BY p.name`,
  );
  for (const row of after.rows) {
    expect(row.state).toMatchObject({ schemaVersion: 2, pipelineName: row.name });
    expect(row.state).not.toHaveProperty("executions");
    expect(JSON.stringify(row.state)).not.toContain("actionTypeId");
  }
  const record = (
    await sql.query(`SELECT runtime FROM public.pipeline_executions WHERE id = $1`, [waitingId])
  ).rows[0].runtime;
  expect(record).toMatchObject({ schemaVersion: 2, executionId: waitingId, status: "InProgress" });
  expect(record).not.toHaveProperty("document");

  // What the previous release ran reads as it was.
  const finished = dataOf(await t.gql(EXECUTIONS, { name: "finished" })).pipeline.executions.nodes;
  expect(finished).toEqual([{ id: expect.any(String), status: "Succeeded" }]);
  const done = dataOf(await t.gql(EXECUTION, { id: finished[0].id })).pipelineExecution;
  expect(done).toMatchObject({
    status: "Succeeded",
    pipelineVersion: 1,
    stages: [
      { name: "Source", status: "Succeeded", actions: [{ name: "Checkout", status: "Succeeded" }] },
      { name: "Build", status: "Succeeded", actions: [{ name: "Make", status: "Succeeded" }] },
    ],
  });
  const history = dataOf(
    await t.gql(`query ($id: ID!) { pipelineExecution(id: $id) { events { sequence type } } }`, {
      id: finished[0].id,
    }),
  ).pipelineExecution.events;
  expect(history.length).toBeGreaterThan(5);
  expect(history.at(-1).type).toBe("EXECUTION_SUCCEEDED");

  // The execution waiting for its approval carries on and finishes.
  await approveUntilSucceeded(t, waitingId);

  // A new release of the other pipeline runs through this release's engine.
  const { releaseChange } = dataOf(
    await t.gql(`mutation { releaseChange(pipelineName: "finished") { id } }`),
  ) as { releaseChange: { id: string } };
  await eventually(
    async () =>
      dataOf(await t!.gql(EXECUTION, { id: releaseChange.id })).pipelineExecution.status === "Succeeded" ||
      undefined,
    20_000,
    "a new execution to succeed",
  );
  expect(dataOf(await t.gql(EXECUTIONS, { name: "finished" })).pipeline.executions.nodes).toHaveLength(2);
});
