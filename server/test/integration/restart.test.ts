import { Client } from "pg";
import type { JobMessage } from "@sluice/protocol";
import { OUTBOX_RELAY_LOCK } from "../../src/messaging/outbox-relay";
import {
  engineConsumerInfo,
  EXECUTION_WITH_HISTORY,
  historyProblems,
  installation,
  killStarted,
  repeatedAttempts,
  startSluiceProcess,
  waitForJetStream,
  type Installation,
  type SluiceProcess,
} from "../support/cluster";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { CREATE, simplePipeline } from "../support/documents";
import { deleteStreams } from "../support/nats";
import { dataOf } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(60_000);

let db: TestDatabase;
let inst: Installation;
let worker: TestWorker;
const servers: SluiceProcess[] = [];
/** Build jobs wait for the test's `worker.finish` while this is true. */
let holdBuilds = true;

beforeAll(async () => {
  db = await createTestDatabase();
  inst = installation(db.url);
  servers.push(await startSluiceProcess(inst));
  await waitForJetStream(inst.natsPrefix);
  worker = await TestWorker.start(inst.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.stageName === "Source"
      ? { outcome: "Succeeded", outputVariables: { CommitId: job.jobId.slice(0, 8) } }
      : holdBuilds
        ? "hold"
        : { outcome: "Succeeded" },
  );
});

afterAll(async () => {
  await worker?.stop();
  await killStarted();
  if (inst) {
    await deleteStreams(inst.natsPrefix);
    inst.cleanup();
  }
  await db?.drop();
});

/** The server that runs now (the last one started). */
const current = () => servers.at(-1)!;

async function execution(id: string) {
  return dataOf(await current().gql(EXECUTION_WITH_HISTORY, { id })).pipelineExecution;
}

async function outboxRows(): Promise<number> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(`SELECT count(*)::int AS n FROM outbox`)).rows[0].n as number;
  } finally {
    await client.end();
  }
}

const jobsOf = (executionId: string) =>
  worker.jobs
    .filter((j) => j.executionId === executionId)
    .map((j) => `${j.stageName}/${j.actionName}#${j.attempt}`)
    .sort();

it("a server killed with SIGKILL mid-execution: the next process finishes the run, nothing twice, nothing lost", async () => {
  dataOf(await current().gql(CREATE, { input: simplePipeline("restart") }));
  let build: JobMessage | undefined;
  await worker.waitFor((jobs) => (build = jobs.find((j) => j.stageName === "Build")) !== undefined);
  const id = build!.executionId;
  await eventually(
    async () => (await execution(id)).stages[1].actions[0].status === "InProgress",
    10_000,
    "the build to be in progress",
  );

  await current().kill9();
  // Until NATS notices the dead connection, a result could still go to its pull request and wait
  // there for the consumer's ack_wait (30 s) before it is redelivered.
  await eventually(
    async () => (await engineConsumerInfo(inst.natsPrefix)).waiting === 0,
    10_000,
    "NATS to drop the killed server's pull requests",
  );
  // The agent finishes while no server runs: the result waits in JetStream for the next one.
  await worker.finish(build!, { outcome: "Succeeded", summary: "built while the server was down" });
  expect((await engineConsumerInfo(inst.natsPrefix)).pending).toBeGreaterThanOrEqual(1);

  servers.push(await startSluiceProcess(inst));
  const done = await eventually(
    async () => {
      const e = await execution(id);
      return e.status === "Succeeded" ? e : undefined;
    },
    20_000,
    "the execution to succeed after the restart",
  );
  expect(historyProblems(done)).toEqual([]);
  expect(done.stages.map((s: any) => s.status)).toEqual(["Succeeded", "Succeeded"]);
  for (const action of done.stages.flatMap((s: any) => s.actions)) {
    expect(action).toMatchObject({ status: "Succeeded", attempt: 1, attempts: [{ attempt: 1 }] });
  }
  // Each event of the history once: one ACTION_SUCCEEDED per action.
  expect(done.events.filter((e: any) => e.type === "ACTION_SUCCEEDED").map((e: any) => e.actionName)).toEqual(
    ["Checkout", "Compile"],
  );
  expect(repeatedAttempts(worker.jobs)).toEqual([]);
  expect(jobsOf(id)).toEqual(["Build/Compile#1", "Source/Checkout#1"]);
  await eventually(async () => (await outboxRows()) === 0, 10_000, "the outbox to empty");
  await eventually(
    async () => {
      const info = await engineConsumerInfo(inst.natsPrefix);
      return info.pending === 0 && info.ackPending === 0;
    },
    10_000,
    "every result to be acknowledged",
  );
});

it("outbox rows committed but not relayed when the server died are relayed, once, by the next process", async () => {
  holdBuilds = false;
  // A process that sends only through the relay (SLUICE_OUTBOX_DIRECT=0), so that holding the
  // relay's lock keeps its rows in the outbox, as a process killed between its commit and its
  // publish leaves them. The next process sends directly: its relay's poll finds them.
  if (current().running()) await current().kill9();
  servers.push(await startSluiceProcess(inst, { SLUICE_OUTBOX_DIRECT: "0" }));
  // Keep the relay from publishing: it takes this advisory lock for every batch.
  const holder = new Client({ connectionString: db.url });
  await holder.connect();
  let id: string;
  try {
    await holder.query(`SELECT pg_advisory_lock($1)`, [OUTBOX_RELAY_LOCK]);
    id = dataOf(await current().gql(`mutation { releaseChange(pipelineName: "restart") { id } }`))
      .releaseChange.id;
    await current().kill9();
    expect(await outboxRows()).toBeGreaterThan(0);
  } finally {
    await holder.end();
  }
  expect(jobsOf(id)).toEqual([]);

  servers.push(await startSluiceProcess(inst));
  await eventually(async () => (await outboxRows()) === 0, 15_000, "the new process to relay the outbox");
  const done = await eventually(
    async () => {
      const e = await execution(id);
      return e.status === "Succeeded" ? e : undefined;
    },
    15_000,
    "the released execution to succeed",
  );
  expect(historyProblems(done)).toEqual([]);
  expect(repeatedAttempts(worker.jobs)).toEqual([]);
  expect(jobsOf(id)).toEqual(["Build/Compile#1", "Source/Checkout#1"]);
});
