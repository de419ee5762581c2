import { jetstreamManager } from "@nats-io/jetstream";
import { natsNames, type JobMessage } from "@sluice/protocol";
import { createClient, type Client as WsClient } from "graphql-ws";
import { Client } from "pg";
import WebSocket from "ws";
import {
  engineConsumerInfo,
  EXECUTION_WITH_HISTORY,
  historyProblems,
  installation,
  killStarted,
  PROCESS_ADMIN_TOKEN,
  repeatedAttempts,
  startSluiceProcess,
  waitForJetStream,
  type Installation,
  type SluiceProcess,
} from "../support/cluster";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { CREATE, simplePipeline } from "../support/documents";
import { connectNats, deleteStreams, NATS_URL } from "../support/nats";
import { dataOf } from "../support/server";
import { TcpProxy } from "../support/tcp-proxy";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(60_000);

let db: TestDatabase;
let inst: Installation;
let proxy: TcpProxy;
let server: SluiceProcess;
let worker: TestWorker;
let ws: WsClient | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  inst = installation(db.url);
  const target = new URL(NATS_URL);
  proxy = await TcpProxy.start(target.hostname, Number(target.port || 4222));
  // The server reaches NATS through the proxy; the worker, like an agent elsewhere, directly.
  server = await startSluiceProcess(inst, { NATS_URL: `nats://127.0.0.1:${proxy.port}` });
  await waitForJetStream(inst.natsPrefix);
  worker = await TestWorker.start(inst.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.stageName === "Source"
      ? { outcome: "Succeeded", outputVariables: { CommitId: job.jobId.slice(0, 8) } }
      : "hold",
  );
});

afterAll(async () => {
  await ws?.dispose();
  await worker?.stop();
  await killStarted();
  await proxy?.close();
  if (inst) {
    await deleteStreams(inst.natsPrefix);
    inst.cleanup();
  }
  await db?.drop();
});

async function outboxRows(): Promise<number> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(`SELECT count(*)::int AS n FROM outbox`)).rows[0].n as number;
  } finally {
    await client.end();
  }
}

const STATUS = `query ($id: ID!) { pipelineExecution(id: $id) { status stages { actions { status } } } }`;

it("NATS goes away and comes back without its in-memory events stream: the server reconnects, resumes, and relays again", async () => {
  dataOf(await server.gql(CREATE, { input: simplePipeline("reconnect") }));
  let build: JobMessage | undefined;
  await worker.waitFor((jobs) => (build = jobs.find((j) => j.stageName === "Build")) !== undefined);
  const id = build!.executionId;
  await eventually(
    async () =>
      dataOf(await server.gql(STATUS, { id })).pipelineExecution.stages[1].actions[0].status === "InProgress",
    10_000,
    "the build to be in progress",
  );

  const live: Array<{ sequence: number; type: string }> = [];
  ws = createClient({
    url: server.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` },
  });
  ws.subscribe(
    {
      query: `subscription ($id: ID!) { executionEvents(executionId: $id) { sequence type } }`,
      variables: { id },
    },
    { next: (value) => live.push(value.data!.executionEvents as any), error: () => {}, complete: () => {} },
  );

  proxy.disconnect();
  await eventually(async () => (await server.status("/readyz")) === 503, 10_000, "/readyz to notice");
  // What a NATS restart does to the installation: file streams and consumers stay, the
  // in-memory events stream is gone. The agent's result reaches JetStream meanwhile.
  const nc = await connectNats();
  try {
    await (await jetstreamManager(nc)).streams.delete(natsNames(inst.natsPrefix).streams.events);
  } finally {
    await nc.close();
  }
  // Once NATS has dropped the cut connection's pull requests, the result waits in the stream (it
  // would otherwise sit with the dead pull request for the consumer's ack_wait, 30 s).
  await eventually(
    async () => (await engineConsumerInfo(inst.natsPrefix)).waiting === 0,
    10_000,
    "NATS to drop the cut connection's pull requests",
  );
  await worker.finish(build!, { outcome: "Succeeded", summary: "built while NATS was away" });

  proxy.restore();
  await eventually(async () => (await server.status("/readyz")) === 200, 15_000, "/readyz to recover");
  const done = await eventually(
    async () => {
      const e = dataOf(await server.gql(EXECUTION_WITH_HISTORY, { id })).pipelineExecution;
      return e.status === "Succeeded" ? e : undefined;
    },
    20_000,
    "the execution to succeed after NATS came back",
  );
  expect(historyProblems(done)).toEqual([]);
  expect(repeatedAttempts(worker.jobs)).toEqual([]);
  await eventually(async () => (await outboxRows()) === 0, 15_000, "the outbox to be relayed again");
  // The server's subscribers get the rest of the run in order, each event once: the relay's
  // failed tries published some events to them already (JetStream drops repeats; they do not).
  await eventually(
    async () => live.some((e) => e.type === "EXECUTION_SUCCEEDED"),
    10_000,
    "the subscriber to see the end of the run",
  );
  const sequences = live.map((e) => e.sequence);
  expect(sequences).toEqual([...new Set(sequences)].sort((x, y) => x - y));
  expect(live.at(-1)).toEqual({ sequence: done.sequence, type: "EXECUTION_SUCCEEDED" });

  // New work goes out and comes back as before.
  const next = dataOf(await server.gql(`mutation { releaseChange(pipelineName: "reconnect") { id } }`))
    .releaseChange.id;
  await worker.waitFor((jobs) => jobs.some((j) => j.executionId === next && j.stageName === "Build"));
});
