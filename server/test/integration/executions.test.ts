import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { CREATE, manualApproval, sourceThen } from "../support/documents";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually, untilSubscribed } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

let t: TestServer;
let worker: TestWorker;
beforeAll(async () => {
  t = await startTestServer();
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build"), SHELL("Deploy")], (job) =>
    job.actionTypeId.category === "Source"
      ? { outcome: "Succeeded", outputVariables: { CommitId: "abc123" } }
      : job.configuration.Commands?.includes("fail")
        ? { outcome: "Failed", summary: "exit status 1" }
        : { outcome: "Succeeded" },
  );
});
afterAll(async () => {
  await worker.stop();
  await t.stop();
});

const action = (name: string, category: string, provider: string, extra: Record<string, unknown> = {}) => ({
  name,
  actionTypeId: { category, owner: "Sluice", provider, version: "1" },
  ...extra,
});

function releasePipeline(
  name: string,
  buildCommands = "make COMMIT=#{Source.CommitId} ENV=#{variables.Env}",
) {
  return {
    name,
    variables: [{ name: "Env", defaultValue: "staging" }],
    stages: [
      {
        name: "Source",
        actions: [
          action("Checkout", "Source", "Git", {
            configuration: { Repository: "https://git.example/app.git", Branch: "main" },
            outputArtifacts: [{ name: "Src" }],
            namespace: "Source",
          }),
        ],
      },
      {
        name: "Build",
        actions: [
          action("Make", "Build", "Shell", {
            configuration: { Commands: buildCommands },
            inputArtifacts: [{ name: "Src" }],
          }),
        ],
      },
      {
        name: "Approve",
        actions: [action("Ship", "Approval", "Manual", { configuration: { CustomData: "Ship it?" } })],
      },
      {
        name: "Deploy",
        actions: [
          action("Push", "Deploy", "Shell", {
            configuration: { Commands: "./deploy" },
            inputArtifacts: [{ name: "Src" }],
          }),
        ],
      },
    ],
  };
}

const EXECUTION = `query ($id: ID!) { pipelineExecution(id: $id) {
  id status pipelineVersion trigger { triggerType triggerDetail } sequence
  variables { name resolvedValue }
  waitingReason { code message blockedBy { executionId approvalPending disabledBy disabledReason position } }
  stages { name status actions { id name status attempt approvalPending summary resolvedConfiguration agent { id name } } }
  events { type sequence stageName actionName status } } }`;
const LATEST = `query ($name: String!) { pipeline(name: $name) { executions(first: 10) { nodes { id status trigger { triggerType } } } } }`;

async function execution(id: string) {
  return dataOf(await t.gql(EXECUTION, { id })).pipelineExecution;
}

async function latestExecutions(name: string) {
  return dataOf(await t.gql(LATEST, { name })).pipeline.executions.nodes as Array<{
    id: string;
    status: string;
    trigger: { triggerType: string };
  }>;
}

function pendingApproval(e: any): string | undefined {
  return e.stages.flatMap((s: any) => s.actions).find((a: any) => a.approvalPending)?.id;
}

it("runs a new pipeline by itself: source → build → approval → deploy, events in order", async () => {
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  // The pipeline does not exist yet: the subscription takes every pipeline's events, and a
  // transition of another pipeline, toggled until it arrives, shows that it listens.
  dataOf(await t.gql(CREATE, { input: sourceThen("probe", { name: "Hold", actions: [manualApproval()] }) }));
  const live: any[] = [];
  let probes = 0;
  const unsubscribe = client.subscribe(
    {
      query: `subscription { pipelineEvents { pipelineName type executionId sequence stageName actionName status } }`,
    },
    {
      next: (value) => {
        const e = value.data?.pipelineEvents as any;
        if (e.pipelineName === "release") live.push(e);
        else if (e.pipelineName === "probe" && e.type.startsWith("TRANSITION_")) probes++;
      },
      error: () => {},
      complete: () => {},
    },
  );
  const toggle = (enabled: boolean) =>
    t.gql(
      `mutation ($e: Boolean!) { toggleTransition(pipelineName: "probe", stageName: "Hold", enabled: $e, reason: "probe") { enabled } }`,
      { e: enabled },
    );
  await untilSubscribed(
    async () => {
      dataOf(await toggle(false));
      dataOf(await toggle(true));
    },
    () => probes > 0,
  );

  dataOf(await t.gql(CREATE, { input: releasePipeline("release") }));
  const [first] = await eventually(async () => {
    const nodes = await latestExecutions("release");
    return nodes.length === 1 ? nodes : undefined;
  });
  expect(first!.trigger.triggerType).toBe("CreatePipeline");

  const waiting = await eventually(
    async () => {
      const e = await execution(first!.id);
      return pendingApproval(e) ? e : undefined;
    },
    10000,
    "the approval to be pending",
  );
  const build = waiting.stages[1].actions[0];
  expect(build).toMatchObject({ status: "Succeeded", attempt: 1, agent: { id: "test-worker" } });
  expect(build.resolvedConfiguration.Commands).toBe("make COMMIT=abc123 ENV=staging");

  const approved = await t.gql(
    `mutation ($id: ID!) { putApprovalResult(actionExecutionId: $id, approved: true, summary: "LGTM") { name status approvalPending } }`,
    { id: pendingApproval(waiting) },
  );
  expect(dataOf(approved).putApprovalResult).toMatchObject({
    name: "Ship",
    status: "Succeeded",
    approvalPending: false,
  });
  const again = await t.gql(
    `mutation ($id: ID!) { putApprovalResult(actionExecutionId: $id, approved: false) { name } }`,
    { id: pendingApproval(waiting) },
  );
  expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");

  const done = await eventually(async () => {
    const e = await execution(first!.id);
    return e.status === "Succeeded" ? e : undefined;
  });
  expect(done.stages.map((s: any) => s.status)).toEqual(["Succeeded", "Succeeded", "Succeeded", "Succeeded"]);
  expect(done.events.map((e: any) => e.sequence)).toEqual(done.events.map((_: unknown, i: number) => i + 1));
  expect(done.events.at(-1)).toMatchObject({ type: "EXECUTION_SUCCEEDED", sequence: done.sequence });

  await eventually(
    async () => live.filter((e) => e.executionId === first!.id).length === done.events.length || undefined,
  );
  const received = live.filter((e) => e.executionId === first!.id);
  expect(received.map((e) => e.sequence)).toEqual(done.events.map((e: any) => e.sequence));
  expect(received.map((e) => e.type)).toEqual(done.events.map((e: any) => e.type));
  unsubscribe();
  await client.dispose();
});

it("releaseChange with the same clientRequestToken starts one execution; variables override defaults", async () => {
  dataOf(await t.gql(CREATE, { input: releasePipeline("tokens") }));
  const RELEASE = `mutation ($name: String!) { releaseChange(pipelineName: $name, clientRequestToken: "deploy-42", variables: [{ name: "Env", value: "prod" }]) { id trigger { triggerType triggerDetail } variables { name resolvedValue } } }`;
  const a = dataOf(await t.gql(RELEASE, { name: "tokens" })).releaseChange;
  const b = dataOf(await t.gql(RELEASE, { name: "tokens" })).releaseChange;
  expect(b.id).toBe(a.id);
  expect(a.trigger).toEqual({ triggerType: "StartPipelineExecution", triggerDetail: "user/admin" });
  expect(a.variables).toEqual([{ name: "Env", resolvedValue: "prod" }]);
  const undeclared = await t.gql(
    `mutation { releaseChange(pipelineName: "tokens", variables: [{ name: "Nope", value: "x" }]) { id } }`,
  );
  expect(undeclared.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  const missing = await t.gql(`mutation { releaseChange(pipelineName: "no-such") { id } }`);
  expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
});

it("releaseChange refuses what no agent would run: a javascript: revision URL, an oversized variable value", async () => {
  dataOf(await t.gql(CREATE, { input: releasePipeline("refused-input") }));
  const count = async () =>
    dataOf(await t.gql(`{ pipeline(name: "refused-input") { executions(first: 50) { nodes { id } } } }`))
      .pipeline.executions.nodes.length;
  const before = await count();
  const RELEASE = `mutation ($revisions: [SourceRevisionInput!], $variables: [PipelineVariableOverride!]) {
    releaseChange(pipelineName: "refused-input", sourceRevisions: $revisions, variables: $variables) { id } }`;
  const revision = { actionName: "Checkout", revisionId: "abc123" };
  for (const revisionUrl of ["javascript:alert(1)", "file:///etc/passwd", "not a url"]) {
    const answer = await t.gql(RELEASE, { revisions: [{ ...revision, revisionUrl }] });
    expect(answer.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(answer.errors?.[0]?.extensions?.validationErrors).toEqual([
      { path: "sourceRevisions[0].revisionUrl", message: expect.stringContaining("http or https") },
    ]);
  }
  const long = await t.gql(RELEASE, { variables: [{ name: "Env", value: "x".repeat(1001) }] });
  expect(long.errors?.[0]?.extensions?.validationErrors).toEqual([
    { path: "variables.Env", message: expect.stringContaining("1000") },
  ]);
  expect(await count()).toBe(before);
  const fine = await t.gql(RELEASE, {
    revisions: [{ ...revision, revisionUrl: "https://git.example/c/abc123" }],
  });
  expect(fine.errors).toBeUndefined();
});

it("a disabled transition holds the next revision with a reason, and enabling lets it in", async () => {
  dataOf(await t.gql(CREATE, { input: releasePipeline("gated") }));
  const TOGGLE = `mutation ($enabled: Boolean!, $reason: String) { toggleTransition(pipelineName: "gated", stageName: "Build", enabled: $enabled, reason: $reason) { stageName enabled disabledReason disabledBy disabledAt } }`;
  const noReason = await t.gql(TOGGLE, { enabled: false });
  expect(noReason.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  const disabled = dataOf(await t.gql(TOGGLE, { enabled: false, reason: "release freeze" })).toggleTransition;
  expect(disabled).toMatchObject({
    stageName: "Build",
    enabled: false,
    disabledReason: "release freeze",
    disabledBy: "user/admin",
  });

  const started = dataOf(
    await t.gql(`mutation { releaseChange(pipelineName: "gated") { id } }`),
  ).releaseChange;
  const held = await eventually(async () => {
    const e = await execution(started.id);
    return e.waitingReason?.code === "TRANSITION_DISABLED" ? e : undefined;
  });
  expect(held.waitingReason.blockedBy).toMatchObject({
    disabledBy: "user/admin",
    disabledReason: "release freeze",
  });
  expect(held.stages[1].status).toBeNull();
  const state = dataOf(
    await t.gql(
      `{ pipeline(name: "gated") { state { stages { name inboundTransition { enabled disabledReason } waitingExecutions { executionId waitingReason { code } } } } } }`,
    ),
  );
  const build = state.pipeline.state.stages[1];
  expect(build.inboundTransition).toEqual({ enabled: false, disabledReason: "release freeze" });
  expect(build.waitingExecutions.map((w: any) => w.executionId)).toContain(started.id);

  dataOf(await t.gql(TOGGLE, { enabled: true }));
  await eventually(async () => (await execution(started.id)).stages[1].status === "Succeeded" || undefined);
});

it("a failed build fails the execution; retry re-runs the failed action as attempt 2", async () => {
  dataOf(await t.gql(CREATE, { input: releasePipeline("flaky", "make fail") }));
  const [run] = await eventually(async () => {
    const nodes = await latestExecutions("flaky");
    return nodes[0]?.status === "Failed" ? nodes : undefined;
  });
  const failed = await execution(run!.id);
  expect(failed.stages[1]).toMatchObject({
    status: "Failed",
    actions: [{ status: "Failed", summary: "exit status 1", attempt: 1 }],
  });

  const retried = await t.gql(
    `mutation ($id: ID!) { retryStage(executionId: $id, stageName: "Build", mode: FAILED_ACTIONS) { id status } }`,
    { id: run!.id },
  );
  expect(dataOf(retried).retryStage.status).toBe("InProgress");
  const after = await eventually(async () => {
    const e = await execution(run!.id);
    return e.stages[1].actions[0].attempt === 2 && e.stages[1].status === "Failed" ? e : undefined;
  });
  expect(after.status).toBe("Failed");
  const refused = await t.gql(
    `mutation ($id: ID!) { retryStage(executionId: $id, stageName: "Deploy") { id } }`,
    { id: run!.id },
  );
  expect(refused.errors?.[0]?.extensions?.code).toBe("CONFLICT");
});

it("stops an execution waiting for approval; it ends Stopped", async () => {
  dataOf(await t.gql(CREATE, { input: releasePipeline("stoppable") }));
  const [run] = await eventually(async () => {
    const nodes = await latestExecutions("stoppable");
    return nodes.length ? nodes : undefined;
  });
  await eventually(async () => pendingApproval(await execution(run!.id)));
  const stopped = dataOf(
    await t.gql(
      `mutation ($id: ID!) { stopExecution(executionId: $id, abandon: true, reason: "wrong branch") { id status } }`,
      { id: run!.id },
    ),
  ).stopExecution;
  expect(["Stopping", "Stopped"]).toContain(stopped.status);
  await eventually(async () => (await execution(run!.id)).status === "Stopped" || undefined);
  const again = await t.gql(`mutation ($id: ID!) { stopExecution(executionId: $id) { id } }`, {
    id: run!.id,
  });
  expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
});
