/**
 * The full backup of docs/backup.md: a `pg_dump` of a running installation's database, restored
 * with `pg_restore` into a new database, served by a server on a fresh NATS (a nats-server of the
 * test's own, empty store): the history is there, and a new execution runs to the end.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { simplePipeline } from "../support/documents";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startPrivateNats, type PrivateNats } from "../support/private-nats";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker, type Behaviour } from "../support/worker";

jest.setTimeout(120_000);

const run = promisify(execFile);
const succeed: Behaviour = (job) =>
  job.actionTypeId.category === "Source"
    ? { outcome: "Succeeded", outputVariables: { CommitId: "0123abc" } }
    : { outcome: "Succeeded" };

let original: TestServer | undefined;
let restored: TestServer | undefined;
let database: TestDatabase | undefined;
let nats: PrivateNats | undefined;
let dir: string;
const workers: TestWorker[] = [];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-dump-"));
});
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await restored?.stop();
  await original?.stop();
  await database?.drop();
  await nats?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const STATUS = `query ($id: ID!) { pipelineExecution(id: $id) { status } }`;
async function succeeded(t: TestServer, id: string): Promise<void> {
  await eventually(
    async () => dataOf(await t.gql(STATUS, { id })).pipelineExecution?.status === "Succeeded",
    60_000,
    `execution ${id} to succeed`,
  );
}

it("restores a pg_dump into a new database with a fresh NATS and runs a pipeline", async () => {
  original = await startTestServer();
  workers.push(await TestWorker.start(original.natsPrefix, [GIT, SHELL("Build")], succeed));
  dataOf(
    await original.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: simplePipeline("app"),
    }),
  );
  const { id: before } = dataOf(
    await original.gql(`mutation { releaseChange(pipelineName: "app") { id } }`),
  ).releaseChange;
  await succeeded(original, before);

  // The backup, taken while the server runs (pg_dump reads one consistent snapshot).
  const dump = path.join(dir, "sluice.dump");
  await run("pg_dump", ["--format=custom", "--file", dump, original.database!.url]);

  // The restore: a new database and a NATS that has never seen this installation.
  database = await createTestDatabase();
  await run("pg_restore", ["--no-owner", "--exit-on-error", "--dbname", database.url, dump]);
  nats = await startPrivateNats();
  restored = await startTestServer({ env: { DATABASE_URL: database.url, NATS_URL: nats.url } });
  await restored.server.messagingReady;

  // The history is there, and the pipeline runs.
  expect(dataOf(await restored.gql(STATUS, { id: before })).pipelineExecution.status).toBe("Succeeded");
  workers.push(
    await TestWorker.start(restored.natsPrefix, [GIT, SHELL("Build")], succeed, "restored", nats.url),
  );
  const { id: after } = dataOf(
    await restored.gql(`mutation { releaseChange(pipelineName: "app") { id } }`),
  ).releaseChange;
  await succeeded(restored, after);
});
