/**
 * A rogue worker and the job artifact routes (issue #11, PROTOCOL.md 9.3): agents have no access
 * to the artifacts bucket on NATS; they move their job's artifacts through the server, which lets
 * an agent read only its job's inputs and write only its job's outputs. Here two real agent
 * identities (tokens of their own, registered over NATS) hold one job each: the rogue, holding the
 * lease of its job, tries to read another execution's artifact, to overwrite another action's
 * output, and to report an artifact its action does not declare. Each is refused and audited, and
 * the honest job's artifacts move as usual.
 */
import crypto from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  LEASE_TOKEN_HEADER,
  PROTOCOL_VERSION,
  encode,
  jobArtifactPath,
  natsNames,
  type JobMessage,
} from "@sluice/protocol";
import { CREATE, shellBuild, sourceThen } from "../support/documents";
import { connectNats } from "../support/nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

interface Agent {
  tokenId: string;
  token: string;
  agentId: string;
}

let t: TestServer;
let nc: NatsConnection;
let worker: TestWorker;
let honest: Agent;
let rogue: Agent;
let base: string;

/** An agent token, and the agent registered with it over NATS (as sluice-agent registers). */
async function registeredAgent(name: string): Promise<Agent> {
  const { createAgentToken } = dataOf(
    await t.gql(`mutation ($d: String!) { createAgentToken(description: $d) { id token } }`, { d: name }),
  );
  const reply = await nc.request(
    natsNames(t.natsPrefix).subjects.register,
    encode("registerRequest", {
      protocolVersion: PROTOCOL_VERSION,
      token: createAgentToken.token,
      name,
      pool: "default",
      providers: [GIT, SHELL("Build")],
      version: "test",
      capacity: 4,
      labels: {},
    }),
    { timeout: 10_000 },
  );
  const answer = reply.json<{ ok: boolean; agentId: string }>();
  expect(answer.ok).toBe(true);
  return { tokenId: createAgentToken.id, token: createAgentToken.token, agentId: answer.agentId };
}

beforeAll(async () => {
  t = await startTestServer();
  base = t.url.replace(/\/graphql$/, "");
  nc = await connectNats();
  honest = await registeredAgent("honest");
  rogue = await registeredAgent("rogue");
  // Checkouts succeed at once; the Build jobs are held: the rogue pipeline's by the rogue, every
  // other's by the honest agent.
  worker = await TestWorker.start(
    t.natsPrefix,
    [GIT, SHELL("Build")],
    (job) => (job.actionTypeId.category === "Build" ? "hold" : { outcome: "Succeeded" }),
    (job) => (job.pipelineName === "rogue" ? rogue.agentId : honest.agentId),
  );
});
afterAll(async () => {
  await worker.stop();
  await nc.close();
  await t.stop();
});

async function jobOf(actionName: string, pipelineName: string): Promise<JobMessage> {
  await worker.waitFor((jobs) =>
    jobs.some((j) => j.actionName === actionName && j.pipelineName === pipelineName),
  );
  return worker.jobs.find((j) => j.actionName === actionName && j.pipelineName === pipelineName)!;
}

const STATUS = /* GraphQL */ `
  query ($id: ID!) {
    pipelineExecution(id: $id) {
      artifacts {
        name
        objectKey
        size
        sha256
      }
      stages {
        actions {
          name
          status
          summary
          errorDetails {
            code
          }
        }
      }
    }
  }
`;
async function execution(id: string) {
  const view = dataOf(await t.gql(STATUS, { id })).pipelineExecution;
  return {
    artifacts: view.artifacts as Array<{ name: string; objectKey: string; size: number; sha256: string }>,
    actions: view.stages.flatMap((s: any) => s.actions) as Array<{
      name: string;
      status: string | null;
      summary: string | null;
      errorDetails: { code: string } | null;
    }>,
  };
}
const action = async (executionId: string, name: string) =>
  (await execution(executionId)).actions.find((a) => a.name === name)!;

/** One request to a job artifact route. */
async function transfer(
  method: "GET" | "PUT",
  job: { jobId: string; attempt: number },
  name: string,
  options: { token?: string | null; leaseToken?: string; body?: Buffer } = {},
): Promise<{ status: number; body: Buffer; json: any }> {
  const direction = method === "GET" ? "input" : "output";
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? rogue.token}`;
  if (options.leaseToken !== undefined) headers[LEASE_TOKEN_HEADER] = options.leaseToken;
  const response = await fetch(`${base}${jobArtifactPath(direction, job.jobId, job.attempt, name)}`, {
    method,
    headers,
    ...(options.body ? { body: options.body } : {}),
  });
  const body = Buffer.from(await response.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(body.toString());
  } catch {
    // the artifact's bytes
  }
  return { status: response.status, body, json };
}

async function objectBytes(objectKey: string): Promise<Buffer | null> {
  const store = await new Objm(nc).open(natsNames(t.natsPrefix).artifactsBucket);
  const bytes = await store.getBlob(objectKey);
  return bytes ? Buffer.from(bytes) : null;
}

const sha256 = (bytes: Buffer) => crypto.createHash("sha256").update(bytes).digest("hex");

it("lets an agent read only its job's inputs and write only its job's outputs", async () => {
  for (const [pipeline, name, output] of [
    ["victim", "Make", "Out"],
    ["rogue", "Evil", "EvilOut"],
  ] as const)
    dataOf(
      await t.gql(CREATE, {
        input: sourceThen(pipeline, {
          name: "Build",
          actions: [shellBuild(name, "make", { outputArtifacts: [{ name: output }] })],
        }),
      }),
    );
  const make = await jobOf("Make", "victim");
  const evil = await jobOf("Evil", "rogue");
  // Both accepts applied: each lease is its agent's.
  await eventually(
    async () =>
      (await action(make.executionId, "Make")).status === "InProgress" &&
      (await action(evil.executionId, "Evil")).status === "InProgress",
    10_000,
    "both Build jobs running",
  );
  const victimSrc = (await execution(make.executionId)).artifacts.find((a) => a.name === "Src")!;
  const rogueSrc = evil.inputArtifacts.find((a) => a.name === "Src")!;
  const victimSrcBytes = (await objectBytes(victimSrc.objectKey))!;
  const L1 = evil.leaseToken;

  // Its own input, with its lease: the bytes recorded for it.
  const own = await transfer("GET", evil, "Src", { leaseToken: L1 });
  expect(own.status).toBe(200);
  expect(sha256(own.body)).toBe(rogueSrc.sha256);

  // 1. Reading another execution's artifact.
  //    - by a name its job has no input of (the victim's output, the victim's object key):
  expect((await transfer("GET", evil, "Out", { leaseToken: L1 })).status).toBe(404);
  expect((await transfer("GET", evil, victimSrc.objectKey, { leaseToken: L1 })).status).toBe(404);
  //    - through the victim's job, with its own lease token:
  const viaVictim = await transfer("GET", make, "Src", { leaseToken: L1 });
  expect(viaVictim.status).toBe(403);
  expect(viaVictim.json.errors[0].message).toMatch(/lease token is not this job attempt's/);
  //    - with the victim's lease token itself (leaked), but its own agent token:
  const leaked = await transfer("GET", make, "Src", { leaseToken: make.leaseToken });
  expect(leaked.status).toBe(403);
  expect(leaked.json.errors[0].message).toMatch(/Another agent holds this job's lease/);
  //    - without an agent token, or with a user's:
  expect((await transfer("GET", evil, "Src", { token: null, leaseToken: L1 })).status).toBe(401);
  expect((await transfer("GET", evil, "Src", { token: ADMIN_TOKEN, leaseToken: L1 })).status).toBe(401);
  expect((await transfer("GET", evil, "Src", {})).status).toBe(403);

  // 2. Overwriting another action's output.
  //    - Checkout's "Src" from its own job (its action does not declare it):
  const overSrc = await transfer("PUT", evil, "Src", { leaseToken: L1, body: Buffer.from("not the source") });
  expect(overSrc.status).toBe(403);
  expect(overSrc.json.errors[0].message).toMatch(/does not declare the output artifact "Src"/);
  //    - the victim's "Out", through the victim's job, with its own or the leaked lease token:
  for (const leaseToken of [L1, make.leaseToken])
    expect((await transfer("PUT", make, "Out", { leaseToken, body: Buffer.from("planted") })).status).toBe(
      403,
    );
  expect(await objectBytes(`${make.outputArtifactKeyPrefix}Out`)).toBeNull();
  expect(await objectBytes(`${evil.outputArtifactKeyPrefix}Src`)).toBeNull();
  expect(await objectBytes(victimSrc.objectKey)).toEqual(victimSrcBytes);

  // 3. Reporting an undeclared artifact: it stores its declared output (allowed, under its
  //    attempt's name) and reports it twice, once under a name its action does not declare.
  const payload = Buffer.from("the rogue's output");
  const stored = await transfer("PUT", evil, "EvilOut", { leaseToken: L1, body: payload });
  expect(stored.status).toBe(200);
  expect(stored.json).toEqual({
    name: "EvilOut",
    objectKey: `${evil.outputArtifactKeyPrefix}EvilOut`,
    size: payload.length,
    sha256: sha256(payload),
  });
  await worker.finish(evil, {
    outcome: "Succeeded",
    stored: [stored.json, { ...stored.json, name: "Extra" }],
  });
  const ended = await eventually(
    async () => {
      const a = await action(evil.executionId, "Evil");
      return a.status === "Failed" || a.status === "Succeeded" ? a : undefined;
    },
    10_000,
    "Evil ended",
  );
  expect(ended).toMatchObject({ status: "Failed", errorDetails: { code: "ConfigurationError" } });
  expect(ended.summary).toMatch(/"Extra", which the action does not declare/);
  expect((await execution(evil.executionId)).artifacts.map((a) => a.name)).toEqual(["Src"]);
  // Its lease is over: its lease token opens nothing any more.
  expect((await transfer("GET", evil, "Src", { leaseToken: L1 })).status).toBe(403);

  // The honest job, meanwhile: its input and its output move, and it succeeds with them.
  const input = await transfer("GET", make, "Src", { token: honest.token, leaseToken: make.leaseToken });
  expect(input.status).toBe(200);
  expect(input.body).toEqual(victimSrcBytes);
  const out = Buffer.from("the honest output");
  // The artifact store refuses the write (its messages may not be that large now), after the
  // whole body was read: the agent is told at once (503, it tries again), not left waiting.
  const jsm = await jetstreamManager(nc);
  const bucketStream = `OBJ_${natsNames(t.natsPrefix).artifactsBucket}`;
  const { config } = await jsm.streams.info(bucketStream);
  await jsm.streams.update(bucketStream, { ...config, max_msg_size: 8 });
  const refused = await transfer("PUT", make, "Out", {
    token: honest.token,
    leaseToken: make.leaseToken,
    body: out,
  });
  await jsm.streams.update(bucketStream, config);
  expect(refused.status).toBe(503);
  expect(refused.json.errors[0].extensions.code).toBe("UNAVAILABLE");
  const put = await transfer("PUT", make, "Out", {
    token: honest.token,
    leaseToken: make.leaseToken,
    body: out,
  });
  expect(put.status).toBe(200);
  await worker.finish(make, { outcome: "Succeeded", summary: "honest", stored: [put.json] });
  await eventually(async () => (await action(make.executionId, "Make")).status === "Succeeded", 10_000);
  const victim = await execution(make.executionId);
  expect(victim.artifacts.find((a) => a.name === "Out")).toEqual(put.json);
  const served = await fetch(`${base}/artifacts/${make.executionId}/Out`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(Buffer.from(await served.arrayBuffer())).toEqual(out);

  // Every refusal of the rogue is in the audit log, under its agent token.
  const rows: Array<{ operation: string; outcome: string }> = await t.server.db.query(
    `SELECT operation, outcome FROM audit_events WHERE principal = $1 ORDER BY at, id`,
    [`agent-token/${rogue.tokenId}`],
  );
  const refusals = rows.filter((r) => r.outcome !== "ok");
  expect(refusals.filter((r) => r.operation.startsWith("GET /agents/jobs/")).length).toBeGreaterThanOrEqual(
    5,
  );
  expect(refusals.filter((r) => r.operation.startsWith("PUT /agents/jobs/")).length).toBe(3);
  expect(rows.filter((r) => r.outcome === "ok").map((r) => r.operation)).toEqual([
    "PUT /agents/jobs/:jobId/:attempt/outputs/:name",
  ]);
  // A revoked token opens nothing, whatever lease token comes with it.
  dataOf(
    await t.gql(`mutation ($id: ID!) { revokeAgentToken(id: $id) { revokedAt } }`, { id: rogue.tokenId }),
  );
  expect((await transfer("GET", evil, "Src", { leaseToken: L1 })).status).toBe(401);

  // Refused tokens (none, an admin's, a revoked agent's) are in the audit log too, counted per window.
  await t.server.refusedReads.flush();
  const unauthenticated: Array<{ operation: string; occurrences: number }> = await t.server.db.query(
    `SELECT operation, occurrences FROM audit_events WHERE outcome = 'UNAUTHENTICATED' AND operation LIKE 'GET /agents/jobs/%'`,
  );
  expect(unauthenticated.reduce((n, r) => n + r.occurrences, 0)).toBe(3);
});

it("lets the job's holder download its inputs before the server applied its accept, and nothing more", async () => {
  // The Test job waits in the stream until a worker for it starts (below).
  dataOf(
    await t.gql(CREATE, {
      input: sourceThen("early", {
        name: "Test",
        actions: [
          {
            name: "Check",
            actionTypeId: SHELL("Test"),
            configuration: { Commands: "true" },
            inputArtifacts: [{ name: "Src" }],
            outputArtifacts: [{ name: "Report" }],
          },
        ],
      }),
    }),
  );
  const { pipeline } = dataOf(
    await t.gql(`{ pipeline(name: "early") { executions(first: 1) { nodes { id } } } }`),
  );
  const executionId: string = pipeline.executions.nodes[0].id;
  await eventually(
    async () => (await action(executionId, "Check")).status === "Queued",
    10_000,
    "Check queued",
  );

  // The server applies no result now: the accept the worker stores stays unapplied.
  await t.server.results.stop();
  const tester = await TestWorker.start(t.natsPrefix, [SHELL("Test")], () => "hold", honest.agentId);
  try {
    await tester.waitFor((jobs) => jobs.length === 1);
    const check = tester.jobs[0]!;
    expect((await action(executionId, "Check")).status).toBe("Queued");
    const src = check.inputArtifacts.find((a) => a.name === "Src")!;

    // Its input: allowed with the lease token and an agent token of the pipeline's account.
    const early = await transfer("GET", check, "Src", { token: honest.token, leaseToken: check.leaseToken });
    expect(early.status).toBe(200);
    expect(sha256(early.body)).toBe(src.sha256);
    // Without the lease token, or with another job's, nothing.
    expect(
      (await transfer("GET", check, "Src", { token: honest.token, leaseToken: "x".repeat(43) })).status,
    ).toBe(403);
    // An agent of another account learns nothing of the job, even holding its lease token.
    dataOf(await t.gql(`mutation { createAccount(id: "elsewhere") { id } }`));
    const { createAgentToken: foreign } = dataOf(
      await t.gql(`mutation { createAgentToken(description: "elsewhere") { id token } }`),
    );
    await t.server.db.query(`UPDATE agent_tokens SET account = 'elsewhere' WHERE id = $1`, [foreign.id]);
    expect(
      (await transfer("GET", check, "Src", { token: foreign.token, leaseToken: check.leaseToken })).status,
    ).toBe(404);
    // An upload waits for the applied accept: refused for now (the agent asks again).
    const upload = await transfer("PUT", check, "Report", {
      token: honest.token,
      leaseToken: check.leaseToken,
      body: Buffer.from("too early"),
    });
    expect([upload.status, upload.json.errors[0].extensions.code]).toEqual([409, "NOT_STARTED"]);
    expect(await objectBytes(`${check.outputArtifactKeyPrefix}Report`)).toBeNull();

    // Once the accept is applied, the upload goes through.
    await t.server.results.start();
    await eventually(async () => (await action(executionId, "Check")).status === "InProgress", 10_000);
    const report = await transfer("PUT", check, "Report", {
      token: honest.token,
      leaseToken: check.leaseToken,
      body: Buffer.from("in time"),
    });
    expect(report.status).toBe(200);
  } finally {
    await t.server.results.start();
    await tester.stop();
  }
});
