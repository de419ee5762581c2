import type { JobMessage } from "@sluice/protocol";
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
import { CREATE, simplePipeline } from "../support/documents";
import { deleteStreams } from "../support/nats";
import { PrivatePostgres } from "../support/private-postgres";
import { dataOf } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(60_000);

let pg: PrivatePostgres;
let inst: Installation;
let server: SluiceProcess;
let worker: TestWorker;

beforeAll(async () => {
  pg = await PrivatePostgres.create();
  inst = installation(pg.url);
  server = await startSluiceProcess(inst);
  await waitForJetStream(inst.natsPrefix);
  worker = await TestWorker.start(inst.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.stageName === "Source"
      ? { outcome: "Succeeded", outputVariables: { CommitId: job.jobId.slice(0, 8) } }
      : "hold",
  );
});

afterAll(async () => {
  await worker?.stop();
  await killStarted();
  if (inst) {
    await deleteStreams(inst.natsPrefix);
    inst.cleanup();
  }
  await pg?.destroy();
});

const EXECUTION_STATUS = `query ($id: ID!) { pipelineExecution(id: $id) { status stages { actions { status } } } }`;

it("PostgreSQL stops and starts under a running server: UNAVAILABLE meanwhile, then it reconnects and the run finishes", async () => {
  dataOf(await server.gql(CREATE, { input: simplePipeline("outage") }));
  let build: JobMessage | undefined;
  await worker.waitFor((jobs) => (build = jobs.find((j) => j.stageName === "Build")) !== undefined);
  const id = build!.executionId;
  await eventually(
    async () =>
      dataOf(await server.gql(EXECUTION_STATUS, { id })).pipelineExecution.stages[1].actions[0].status ===
      "InProgress",
    10_000,
    "the build to be in progress",
  );
  expect(await server.status("/readyz")).toBe(200);

  await pg.stop("fast");

  // Queries and mutations answer UNAVAILABLE; /readyz says not ready, /healthz that the process lives.
  const query = await server.gql(EXECUTION_STATUS, { id });
  expect(query.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
  const mutation = await server.gql(`mutation { releaseChange(pipelineName: "outage") { id } }`);
  expect(mutation.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
  expect(await server.status("/readyz")).toBe(503);
  expect(await server.status("/healthz")).toBe(200);

  // The agent finishes during the outage: the server cannot apply the result, so it must not ack it;
  // it holds it (in order, kept from redelivery) until the database is back.
  await worker.finish(build!, { outcome: "Succeeded", summary: "built during the outage" });
  await eventually(
    async () => {
      const info = await engineConsumerInfo(inst.natsPrefix);
      return info.pending === 0 && info.ackPending > 0;
    },
    10_000,
    "the unapplied result to be held unacknowledged",
  );

  await pg.start();
  await eventually(async () => (await server.status("/readyz")) === 200, 15_000, "/readyz to recover");
  const done = await eventually(
    async () => {
      const e = dataOf(await server.gql(EXECUTION_WITH_HISTORY, { id })).pipelineExecution;
      return e.status === "Succeeded" ? e : undefined;
    },
    20_000,
    "the execution to succeed after the outage",
  );
  expect(server.running()).toBe(true);
  expect(historyProblems(done)).toEqual([]);
  for (const action of done.stages.flatMap((s: any) => s.actions)) {
    expect(action).toMatchObject({ status: "Succeeded", attempt: 1, attempts: [{ attempt: 1 }] });
  }
  expect(repeatedAttempts(worker.jobs)).toEqual([]);
  expect(
    worker.jobs
      .filter((j) => j.executionId === id)
      .map((j) => `${j.stageName}/${j.actionName}#${j.attempt}`)
      .sort(),
  ).toEqual(["Build/Compile#1", "Source/Checkout#1"]);
  await eventually(
    async () => {
      const info = await engineConsumerInfo(inst.natsPrefix);
      return info.pending === 0 && info.ackPending === 0;
    },
    10_000,
    "every result to be acknowledged",
  );
  // Work after the outage runs as before.
  const next = dataOf(await server.gql(`mutation { releaseChange(pipelineName: "outage") { id } }`))
    .releaseChange.id;
  await worker.waitFor((jobs) => jobs.some((j) => j.executionId === next && j.stageName === "Build"));
});

it("a database that stops answering: /readyz says 503 within its deadline instead of hanging", async () => {
  expect(await server.status("/readyz")).toBe(200);
  await pg.freeze();
  try {
    const started = Date.now();
    expect(await server.status("/readyz")).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await server.status("/healthz")).toBe(200);
  } finally {
    await pg.thaw();
  }
  await eventually(async () => (await server.status("/readyz")) === 200, 15_000, "/readyz to recover");
});
