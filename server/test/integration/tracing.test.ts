/**
 * OpenTelemetry traces end to end: a real OTLP/HTTP receiver (a node http server on a loopback
 * port, taking POST /v1/traces as JSON), a real server process and a real agent process on the
 * test's PostgreSQL database and NATS prefix. One pipeline runs (a Git source, then a custom action
 * with a secret property whose handler checks the value), started by a `releaseChange` with a
 * variable override. The spans of the GraphQL request, the engine transactions, the outbox
 * publishes, the agent's job and the server's handling of its accept and complete form one trace
 * with the right parents; neither the secret nor the variable's value is in anything the receiver
 * got. Without an endpoint the SDK is not loaded at all. With SLUICE_OUTBOX_DIRECT=0 (every job
 * published by the relay loop, from its outbox row) the run is still one trace: the relay loop
 * sends on the trace context stored with each job's row.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { killAgents, startAgentProcess, type AgentProcess } from "../support/agent-process";
import {
  installation,
  killStarted,
  PROCESS_ADMIN_TOKEN,
  startSluiceProcess,
  type Installation,
  type SluiceProcess,
} from "../support/cluster";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deleteStreams, NATS_URL } from "../support/nats";
import { dataOf } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(180_000);

/** Random per run: finding them in the spans means this run leaked them. */
const SECRET = `s3cret-${crypto.randomBytes(12).toString("hex")}`;
const SECRET_SHA256 = crypto.createHash("sha256").update(SECRET).digest("hex");
const VARIABLE_VALUE = `v4lue-${crypto.randomBytes(12).toString("hex")}`;
const VAULT = { category: "Deploy", owner: "Custom", provider: "Vault", version: "1" } as const;

/** The handler fails unless it was given the secret (so the secret really went through the run). */
const HANDLER_JS = `
const fs = require("fs"), crypto = require("crypto");
const job = JSON.parse(fs.readFileSync(process.env.SLUICE_JOB_FILE, "utf8"));
const hash = crypto.createHash("sha256").update(job.configuration.Token).digest("hex");
if (hash !== job.configuration.Expect) { console.error("not the expected token"); process.exit(3); }
console.log("deploying to " + job.configuration.Target);
`;

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

/** The OTLP/HTTP receiver: every request body as text, and the spans they held. */
interface Receiver {
  url: string;
  bodies: string[];
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

/** OTLP JSON ids are hex (the JS exporter) or base64 (the protobuf JSON mapping): hex here. */
const hexId = (id: unknown): string =>
  typeof id !== "string" || id === ""
    ? ""
    : /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16)
      ? id.toLowerCase()
      : Buffer.from(id, "base64").toString("hex");

const attributeValue = (value: Record<string, unknown>): unknown =>
  value.stringValue ??
  (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
  value.boolValue ??
  value.doubleValue ??
  (value.arrayValue as { values?: Array<Record<string, unknown>> } | undefined)?.values?.map(attributeValue);

const attributesOf = (list: unknown): Record<string, unknown> =>
  Object.fromEntries(
    ((list as Array<{ key: string; value: Record<string, unknown> }>) ?? []).map((a) => [
      a.key,
      attributeValue(a.value),
    ]),
  );

async function startReceiver(): Promise<Receiver> {
  const bodies: string[] = [];
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      bodies.push(text);
      const body = JSON.parse(text) as { resourceSpans?: any[] };
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"]);
        for (const scopeSpans of resourceSpans.scopeSpans ?? [])
          for (const span of scopeSpans.spans ?? [])
            spans.push({
              service,
              traceId: hexId(span.traceId),
              spanId: hexId(span.spanId),
              parentSpanId: hexId(span.parentSpanId),
              name: span.name,
              attributes: attributesOf(span.attributes),
            });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let receiver: Receiver;
let db: TestDatabase;
let inst: Installation;
let scratch: string;
let agent: AgentProcess;
/** The server of the test that set up the pipeline and its agent (the next one replaces it). */
let first: SluiceProcess | null = null;
let agentToken = "";

beforeAll(async () => {
  receiver = await startReceiver();
  db = await createTestDatabase();
  inst = installation(db.url);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-tracing-"));
  fs.chmodSync(scratch, 0o755);
});

afterAll(async () => {
  await killAgents();
  await killStarted();
  await receiver?.close();
  if (inst) {
    await deleteStreams(inst.natsPrefix);
    inst.cleanup();
  }
  await db?.drop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** The ready line a server process logs: what it says about tracing. */
function readyLine(output: string): Record<string, unknown> {
  const line = output.split("\n").find((l) => l.includes('"sluice server listening"'));
  if (!line) throw new Error(`no ready line in:\n${output}`);
  return JSON.parse(line) as Record<string, unknown>;
}

const OTEL_ENV = () => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
  // Batches leave every 200 ms rather than every 5 s: the test waits less.
  OTEL_BSP_SCHEDULE_DELAY: "200",
});

/**
 * Releases "traced" on `server` (its agent online) with a variable override, and checks that the
 * run is one trace: the GraphQL span, the engine transactions, each job's outbox publish (the
 * direct path's, or with SLUICE_OUTBOX_DIRECT=0 the relay loop's), the agent's job and its steps,
 * the server's handling of the accept and complete; and that nothing sent holds a secret.
 */
async function releaseAndCheckTrace(
  server: SluiceProcess,
  agentToken: string,
  path: "direct" | "relay",
): Promise<void> {
  // The spans of this release only (an earlier test's are in the receiver too).
  const since = receiver.spans.length;
  const spans = () => receiver.spans.slice(since);
  // A named operation with a variable override whose value must not reach any span.
  const { releaseChange } = dataOf(
    await server.gql(
      `mutation ReleaseChange($p: String!, $v: [PipelineVariableOverride!]) {
        releaseChange(pipelineName: $p, variables: $v) { id } }`,
      { p: "traced", v: [{ name: "Env", value: VARIABLE_VALUE }] },
    ),
  );
  const execution = await eventually(
    async () => {
      const { pipelineExecution } = dataOf(
        await server.gql(
          `query ($id: ID!) { pipelineExecution(id: $id) { status stages { actions { id name status summary } } } }`,
          { id: releaseChange.id },
        ),
      );
      return ["Succeeded", "Failed"].includes(pipelineExecution.status) ? pipelineExecution : undefined;
    },
    90_000,
    "the execution finished",
  );
  // (The whole execution in the message when it did not succeed: each action's summary says why.)
  expect(execution).toMatchObject({ status: "Succeeded" });
  const unlockId: string = execution.stages[1].actions[0].id;

  // The spans of the whole run, once the last ones (both agent jobs, which end after their
  // complete, and the engine transaction the Unlock's complete caused) arrived.
  const release = await eventually(
    async () => spans().find((s) => s.name === "mutation ReleaseChange"),
    30_000,
    "the releaseChange span",
  );
  const trace = () => spans().filter((s) => s.traceId === release.traceId);
  const byId = () => new Map(trace().map((s) => [s.spanId, s]));
  const parentOf = (span: ReceivedSpan) => byId().get(span.parentSpanId);
  await eventually(
    async () =>
      trace().filter((s) => s.name === "job received").length === 2 &&
      trace().some(
        (s) =>
          s.name === "engine ActionCompleted" &&
          parentOf(s)?.name === "results complete" &&
          parentOf(s)?.attributes["sluice.job.id"] === unlockId,
      ),
    30_000,
    `the Unlock's complete handled in the trace; received: ${JSON.stringify(spans().map((s) => s.name))}`,
  );

  // The GraphQL span: operation type and name, principal, outcome.
  expect(release).toMatchObject({
    service: "sluice-server",
    parentSpanId: "",
    attributes: expect.objectContaining({
      "graphql.operation.type": "mutation",
      "graphql.operation.name": "ReleaseChange",
      "sluice.principal.id": expect.any(String),
      "sluice.outcome": "ok",
    }),
  });
  // Its engine transaction: the execution's start, its child.
  const start = trace().find((s) => s.name === "engine StartExecution")!;
  expect(start).toBeDefined();
  expect(start.parentSpanId).toBe(release.spanId);
  expect(start.attributes).toMatchObject({
    "sluice.event.type": "StartExecution",
    "sluice.pipeline.name": "traced",
    "sluice.execution.id": releaseChange.id,
  });

  // Each agent job: a child of the outbox publish of the engine transaction that dispatched it.
  const jobs = trace().filter((s) => s.name === "job received");
  expect(jobs.map((j) => j.attributes["sluice.action.name"]).sort()).toEqual(["Checkout", "Unlock"]);
  for (const job of jobs) {
    expect(job.service).toBe("sluice-agent");
    expect(job.attributes).toMatchObject({
      "sluice.execution.id": releaseChange.id,
      "sluice.pipeline.name": "traced",
      "sluice.job.outcome": "Succeeded",
    });
    const publish = parentOf(job)!;
    expect(publish?.name).toBe("outbox publish");
    // From the relay loop: a publish span of its own, under the context stored with the row.
    if (path === "relay") expect(publish.attributes["sluice.outbox.path"]).toBe("relay");
    expect(parentOf(publish)?.name).toMatch(/^engine /);
    // The agent's steps are the job's children.
    const steps = trace()
      .filter((s) => s.parentSpanId === job.spanId)
      .map((s) => s.name);
    expect(steps).toEqual(expect.arrayContaining(["job workspace", "job process run", "job complete"]));
    // The server handled its accept and complete in the same trace, each causing a transaction.
    const accepted = trace().find(
      (s) => s.name === "results accept" && s.attributes["sluice.job.id"] === job.attributes["sluice.job.id"],
    )!;
    expect(parentOf(accepted)).toBe(job);
    const completed = trace().find(
      (s) =>
        s.name === "results complete" && s.attributes["sluice.job.id"] === job.attributes["sluice.job.id"],
    )!;
    expect(parentOf(completed)?.name).toBe("job complete");
    expect(parentOf(parentOf(completed)!)).toBe(job);
    expect(trace().some((s) => s.name === "engine ActionStarted" && s.parentSpanId === accepted.spanId)).toBe(
      true,
    );
  }
  // The first job was dispatched by the start; the second by the first one's completion.
  const checkout = jobs.find((j) => j.attributes["sluice.action.name"] === "Checkout")!;
  const unlock = jobs.find((j) => j.attributes["sluice.action.name"] === "Unlock")!;
  expect(parentOf(parentOf(checkout)!)).toBe(start);
  expect(parentOf(parentOf(unlock)!)?.name).toBe("engine ActionCompleted");
  expect(
    trace().find((s) => s.parentSpanId === unlock.spanId && s.name === "job artifacts in"),
  ).toBeDefined();

  // Nothing received holds the secret, the variable's value or a token, in any encoding.
  const everything = receiver.bodies.join("\n");
  for (const value of [SECRET, VARIABLE_VALUE, agentToken, PROCESS_ADMIN_TOKEN])
    for (const form of [value, Buffer.from(value).toString("base64"), Buffer.from(value).toString("hex")])
      expect(everything.includes(form)).toBe(false);
  // The values did go through the run: the job's log shows the variable (and hides the secret).
  const { actionLog } = dataOf(
    await server.gql(`query ($id: ID!) { actionLog(actionExecutionId: $id) { nodes { text } } }`, {
      id: unlockId,
    }),
  );
  expect(JSON.stringify(actionLog.nodes)).toContain(`deploying to ${VARIABLE_VALUE}`);
}

it("without an OTLP endpoint the server does not load the OpenTelemetry SDK", async () => {
  const server = await startSluiceProcess(inst);
  const line = await eventually(async () => {
    try {
      return readyLine(server.output());
    } catch {
      return undefined;
    }
  }, 30_000);
  expect(line).toMatchObject({ tracing: "off", tracingSdkLoaded: false });
  await server.kill9();
});

it("one trace follows a release from the GraphQL request through the engine, NATS, the agent and back", async () => {
  const server = await startSluiceProcess(inst, OTEL_ENV());
  const line = await eventually(async () => {
    try {
      return readyLine(server.output());
    } catch {
      return undefined;
    }
  }, 30_000);
  // The same check that said "not loaded" above says "loaded" here.
  expect(line).toMatchObject({ tracing: `sluice-server to ${receiver.url}/`, tracingSdkLoaded: true });

  const repo = path.join(scratch, "repo");
  fs.mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], { cwd: repo });
  git("init", "-q", "-b", "main");
  fs.writeFileSync(path.join(repo, "app.txt"), "hello\n");
  git("add", ".");
  git("commit", "-q", "-m", "First commit");
  fs.writeFileSync(path.join(scratch, "handler.js"), HANDLER_JS);

  dataOf(
    await server.gql(
      `mutation ($input: CustomActionTypeInput!) { createCustomActionType(input: $input) { id { provider } } }`,
      {
        input: {
          category: "Deploy",
          provider: "Vault",
          version: "1",
          configurationProperties: [
            { name: "Token", required: true, secret: true },
            { name: "Expect", required: true },
            { name: "Target", required: true },
          ],
          inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
          outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
        },
      },
    ),
  );
  dataOf(
    await server.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: {
        name: "traced",
        variables: [{ name: "Env", defaultValue: "staging" }],
        stages: [
          {
            name: "Source",
            actions: [
              {
                name: "Checkout",
                actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
                configuration: { Repository: `file://${repo}`, Branch: "main" },
                outputArtifacts: [{ name: "Src" }],
              },
            ],
          },
          {
            name: "Release",
            actions: [
              {
                name: "Unlock",
                actionTypeId: VAULT,
                inputArtifacts: [{ name: "Src" }],
                configuration: { Token: SECRET, Expect: SECRET_SHA256, Target: "#{variables.Env}" },
              },
            ],
          },
        ],
      },
    }),
  );
  const { createAgentToken } = dataOf(
    await server.gql(`mutation { createAgentToken(description: "tracing") { token } }`),
  );
  agent = startAgentProcess({
    natsUrl: NATS_URL,
    serverUrl: server.base,
    prefix: inst.natsPrefix,
    token: createAgentToken.token,
    name: "tracer",
    providers: "Source/Sluice/Git@1",
    env: {
      ...OTEL_ENV(),
      SLUICE_AGENT_HANDLERS: `Deploy/Custom/Vault@1=${process.execPath} ${path.join(scratch, "handler.js")}`,
    },
  });
  await eventually(
    async () =>
      dataOf(await server.gql(`{ agents { name status } }`)).agents.some((a: any) => a.status === "online"),
    30_000,
    "the agent online",
  );
  expect(agent.output()).toContain('"tracing on"');
  // A new pipeline runs once by itself (trigger CreatePipeline, a trace of its own): it ends first,
  // so that no job of the release below is dispatched by that execution's transactions.
  await eventually(
    async () => {
      const { pipeline } = dataOf(
        await server.gql(`{ pipeline(name: "traced") { executions(first: 1) { nodes { status } } } }`),
      );
      return ["Succeeded", "Failed"].includes(pipeline.executions.nodes[0]?.status);
    },
    90_000,
    "the first execution finished",
  );

  agentToken = createAgentToken.token;
  first = server;
  await releaseAndCheckTrace(server, agentToken, "direct");
});

it("with SLUICE_OUTBOX_DIRECT=0 the relay loop carries each job's stored trace context: still one trace", async () => {
  // The same installation, pipeline and agent, now served by a process that sends every message
  // through the relay loop (the path of leftovers and of the backlog after a NATS outage too).
  if (!first) throw new Error("the previous test did not set up the pipeline and its agent");
  await first.kill9();
  // On the first one's port: the agent moves its jobs' artifacts through that address.
  const server = await startSluiceProcess(inst, {
    ...OTEL_ENV(),
    SLUICE_OUTBOX_DIRECT: "0",
    PORT: new URL(first.base).port,
  });
  await eventually(async () => {
    try {
      return readyLine(server.output());
    } catch {
      return undefined;
    }
  }, 30_000);
  await releaseAndCheckTrace(server, agentToken, "relay");
});
