import { createClient, type Client as WsClient } from "graphql-ws";
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
import { CREATE } from "../support/documents";
import { deleteStreams } from "../support/nats";
import { dataOf } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(60_000);

const RELEASES = 10;

let db: TestDatabase;
let inst: Installation;
let a: SluiceProcess;
let b: SluiceProcess;
let worker: TestWorker;
let ws: WsClient | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  inst = installation(db.url);
  [a, b] = await Promise.all([startSluiceProcess(inst), startSluiceProcess(inst)]);
  await waitForJetStream(inst.natsPrefix);
  worker = await TestWorker.start(inst.natsPrefix, [GIT, SHELL("Build"), SHELL("Deploy")], (job) => ({
    outcome: "Succeeded",
    outputVariables:
      job.stageName === "Source" ? { CommitId: job.jobId.slice(0, 8) } : ({} as Record<string, string>),
  }));
});

afterAll(async () => {
  await ws?.dispose();
  await worker?.stop();
  await killStarted();
  if (inst) {
    await deleteStreams(inst.natsPrefix);
    inst.cleanup();
  }
  await db?.drop();
});

const type = (category: string, provider: string) => ({ category, owner: "Sluice", provider, version: "1" });
const queuedPipeline = (name: string) => ({
  name,
  executionMode: "QUEUED",
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: type("Source", "Git"),
          configuration: { Repository: "https://git.example/app.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
          namespace: "SrcVars",
        },
      ],
    },
    {
      name: "Build",
      actions: [
        {
          name: "Compile",
          actionTypeId: type("Build", "Shell"),
          configuration: { Commands: "make COMMIT=#{SrcVars.CommitId}" },
          inputArtifacts: [{ name: "Src" }],
        },
      ],
    },
    {
      name: "Deploy",
      actions: [
        {
          name: "Push",
          actionTypeId: type("Deploy", "Shell"),
          configuration: { Commands: "./deploy" },
          inputArtifacts: [{ name: "Src" }],
        },
      ],
    },
  ],
});

interface LiveEvent {
  type: string;
  executionId: string | null;
  sequence: number | null;
  stageName: string | null;
}

it("two server processes on one database: releases through both run once each, in order, and B's subscribers see A's changes", async () => {
  dataOf(await a.gql(CREATE, { input: queuedPipeline("twin") }));
  const first = await eventually(async () => {
    const nodes = dataOf(
      await b.gql(`{ pipeline(name: "twin") { executions(first: 5) { nodes { id status } } } }`),
    ).pipeline.executions.nodes;
    return nodes.length === 1 && nodes[0].status === "Succeeded" ? (nodes[0].id as string) : undefined;
  });

  // A graphql-ws client of B; it is live once it receives a transition change made through A.
  const live: LiveEvent[] = [];
  ws = createClient({
    url: b.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` },
  });
  const subscriptionErrors: unknown[] = [];
  ws.subscribe(
    {
      query: `subscription { pipelineEvents(pipelineName: "twin") { type executionId sequence stageName } }`,
    },
    {
      next: (value) => live.push(value.data!.pipelineEvents as LiveEvent),
      error: (error) => subscriptionErrors.push(error),
      complete: () => {},
    },
  );
  const TOGGLE = `mutation ($enabled: Boolean!) { toggleTransition(pipelineName: "twin", stageName: "Deploy", enabled: $enabled, reason: "probe") { enabled } }`;
  await eventually(
    async () => {
      dataOf(await a.gql(TOGGLE, { enabled: false }));
      dataOf(await a.gql(TOGGLE, { enabled: true }));
      return live.some((e) => e.type === "TRANSITION_ENABLED");
    },
    10_000,
    "B's subscriber to see a change made through A",
  );

  // Ten releases at once, split over both servers.
  const released: string[] = await Promise.all(
    Array.from({ length: RELEASES }, async (_, i) => {
      const server = i % 2 === 0 ? a : b;
      return dataOf(await server.gql(`mutation { releaseChange(pipelineName: "twin") { id } }`)).releaseChange
        .id as string;
    }),
  );
  expect(new Set(released).size).toBe(RELEASES);

  const executions = await eventually(
    async () => {
      const all = await Promise.all(
        released.map(async (id, i) => {
          const server = i % 2 === 0 ? b : a;
          return dataOf(await server.gql(EXECUTION_WITH_HISTORY, { id })).pipelineExecution;
        }),
      );
      return all.every((e) => e.status === "Succeeded") ? all : undefined;
    },
    30_000,
    "every release to succeed",
  );

  // Every result applied once: one attempt per action, one ACTION_SUCCEEDED each, complete histories.
  for (const e of executions) {
    expect({ id: e.id, problems: historyProblems(e) }).toEqual({ id: e.id, problems: [] });
    for (const stage of e.stages) {
      expect(stage.status).toBe("Succeeded");
      for (const action of stage.actions) {
        expect(action).toMatchObject({ status: "Succeeded", attempt: 1, attempts: [{ attempt: 1 }] });
      }
    }
    const succeeded = e.events
      .filter((ev: any) => ev.type === "ACTION_SUCCEEDED")
      .map((ev: any) => `${ev.stageName}/${ev.actionName}`);
    expect(succeeded).toEqual(["Source/Checkout", "Build/Compile", "Deploy/Push"]);
  }
  expect(repeatedAttempts(worker.jobs)).toEqual([]);
  const ids = new Set([first, ...released]);
  expect(worker.jobs.filter((j) => ids.has(j.executionId))).toHaveLength(3 * (RELEASES + 1));
  await eventually(
    async () => {
      const info = await engineConsumerInfo(inst.natsPrefix);
      return info.pending === 0 && info.ackPending === 0;
    },
    10_000,
    "every result to be acknowledged",
  );

  // QUEUED: a stage works on one execution at a time; no two executions' stays in a stage overlap.
  const overlaps: string[] = [];
  for (const stageName of ["Source", "Build", "Deploy"]) {
    const stays = executions
      .map((e) => ({ id: e.id as string, stage: e.stages.find((s: any) => s.name === stageName) }))
      .map(({ id, stage }) => ({ id, start: Date.parse(stage.startTime), end: Date.parse(stage.endTime) }))
      .sort((x, y) => x.start - y.start || x.end - y.end);
    for (const stay of stays) {
      if (!(stay.start <= stay.end)) overlaps.push(`${stageName}: ${stay.id} has no start or end time`);
    }
    for (let i = 1; i < stays.length; i++) {
      const [before, after] = [stays[i - 1]!, stays[i]!];
      if (after.start < before.end)
        overlaps.push(`${stageName}: ${after.id} entered before ${before.id} left`);
    }
  }
  expect(overlaps).toEqual([]);

  // B's subscriber received every event of every release (made through A or B) in sequence order.
  await eventually(
    async () =>
      executions.every((e) => live.filter((l) => l.executionId === e.id).length === e.events.length) ||
      undefined,
    10_000,
    "B's subscriber to receive every event",
  );
  for (const e of executions) {
    const received = live.filter((l) => l.executionId === e.id).map((l) => `${l.sequence} ${l.type}`);
    expect(received).toEqual(e.events.map((ev: any) => `${ev.sequence} ${ev.type}`));
  }
  expect(subscriptionErrors).toEqual([]);
});

it("each copy's kept runtime is read again once the other copy decided: no change of one is lost by the other", async () => {
  // Each copy keeps the runtime it last wrote with the row's revision (engine/runtimes.ts). A
  // copy that used its kept runtime after the other had decided would write its old stage states
  // back over the other's change.
  dataOf(await a.gql(CREATE, { input: queuedPipeline("alternate") }));
  const toggle = (server: SluiceProcess, stageName: string, enabled: boolean) =>
    server.gql(
      `mutation ($s: String!, $e: Boolean!) { toggleTransition(pipelineName: "alternate", stageName: $s, enabled: $e, reason: "probe") { enabled } }`,
      { s: stageName, e: enabled },
    );
  const STATE = `{ pipeline(name: "alternate") { state { stages { name inboundTransition { enabled } } } } }`;
  const disabled = async (server: SluiceProcess) =>
    (
      dataOf(await server.gql(STATE)).pipeline.state.stages as Array<{
        name: string;
        inboundTransition: { enabled: boolean } | null;
      }>
    )
      .filter((s) => s.inboundTransition && !s.inboundTransition.enabled)
      .map((s) => s.name)
      .sort();

  dataOf(await toggle(a, "Build", false));
  dataOf(await toggle(b, "Deploy", false));
  dataOf(await toggle(a, "Build", true));
  expect(await disabled(a)).toEqual(["Deploy"]);
  expect(await disabled(b)).toEqual(["Deploy"]);
  dataOf(await toggle(b, "Build", false));
  dataOf(await toggle(a, "Deploy", true));
  expect(await disabled(b)).toEqual(["Build"]);
  expect(await disabled(a)).toEqual(["Build"]);
});
