/**
 * End to end, secret values: a real server on its own PostgreSQL database, a real agent process
 * and a nats-server of this test's own. A pipeline's custom action has a secret property; the
 * agent asks for it sealed, its handler process checks the value (and prints it, in two writes far
 * enough apart to land in two log chunks), and the run succeeds. Then everything that was stored
 * is searched for the value: a pg_dump of the database, every message that crossed the NATS
 * (a wiretap on `>` from before the run: jobs, accepts, results, logs, events from the outbox,
 * object store chunks, requests and their replies), every message still stored in every JetStream
 * stream, and the log the API serves. The value is nowhere, while envelopes (`sluice:enc:v1:`) are. Then the
 * master key is rotated and the pipeline runs again. The same for a secret of the secret store
 * (`sluice put-secret`, referenced as `{{resolve:secret:NAME}}`), and the dump holds none of the
 * installation's other secrets in clear either: webhook secrets, notification target secrets,
 * header values and URL tokens, the lease key.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  PROTOCOL_VERSION,
  decode,
  encode,
  generateSealKeyPair,
  natsNames,
  openSealed,
  secretsContext,
} from "@sluice/protocol";
import { Client } from "pg";
import { leaseKeyOf } from "../../src/persistence/installation-secrets";
import { MasterKeyring, SecretVault } from "../../src/persistence/secret-vault";
import { killAgents, startAgentProcess } from "../support/agent-process";
import { startPrivateNats, type PrivateNats } from "../support/private-nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(180_000);

const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");

/** The secret: random per run, so that finding it anywhere means this run leaked it. */
const SECRET = `s3cret-${crypto.randomBytes(12).toString("hex")}`;
const SECRET_SHA256 = crypto.createHash("sha256").update(SECRET).digest("hex");
/** A secret of the server's secret store, referenced as {{resolve:secret:release-token}}. */
const STORE_SECRET = `st0re-${crypto.randomBytes(12).toString("hex")}`;
/** A secret that lives on the agent's host only, shared with jobs by name (--secret-env). */
const HOST_SECRET = `h0st-${crypto.randomBytes(12).toString("hex")}`;
const VAULT = { category: "Deploy", owner: "Custom", provider: "Vault", version: "1" } as const;

/**
 * The handler: reads its job file, fails unless the Token's SHA-256 is the expected one, prints
 * the Token split in two writes 700 ms apart (more than the log's 200 ms flush: two chunks), and
 * hands the hash back as an output variable.
 */
const HANDLER_JS = `
const fs = require("fs"), crypto = require("crypto");
const job = JSON.parse(fs.readFileSync(process.env.SLUICE_JOB_FILE, "utf8"));
const token = job.configuration.Token;
const hash = crypto.createHash("sha256").update(token).digest("hex");
if (hash !== job.configuration.Expect) { console.error("the token is not the expected one"); process.exit(3); }
// A gate: the job waits until the test creates this file (to be seen running).
if (job.configuration.Gate) {
  const wait = setInterval(() => { if (fs.existsSync(job.configuration.Gate)) { clearInterval(wait); } }, 50);
}
if (job.configuration.Note) console.log("note: " + job.configuration.Note);
process.stdout.write("token is " + token.slice(0, 9));
setTimeout(() => {
  process.stdout.write(token.slice(9) + " (end)\\n");
  console.error("stderr has it too: " + token);
  fs.appendFileSync(process.env.SLUICE_OUTPUT, "TOKEN_SHA256=" + hash + "\\n");
}, 700);
`;

let nats: PrivateNats;
let t: TestServer;
let scratch: string;
let dataDir: string;
let repo: string;
/** Everything published on this test's NATS from the start, as text. */
const wire: string[] = [];
/** The same, subject and data of each message. */
const wireMessages: Array<{ subject: string; data: string }> = [];
let tap: NatsConnection;

beforeAll(async () => {
  nats = await startPrivateNats();
  tap = await connect({ servers: nats.url });
  tap.subscribe(">", {
    callback: (_error, msg) => {
      wireMessages.push({ subject: msg.subject, data: Buffer.from(msg.data).toString("utf8") });
      wire.push(msg.subject, JSON.stringify(msg.headers ? [...msg.headers] : []));
      wire.push(Buffer.from(msg.data).toString("utf8"), Buffer.from(msg.data).toString("latin1"));
    },
  });
  await tap.flush();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-secrets-e2e-"));
  // Jobs of an agent running as root run as uids of their own: they read the repository here.
  fs.chmodSync(scratch, 0o755);
  dataDir = path.join(scratch, "data");
  t = await startTestServer({ env: { NATS_URL: nats.url }, dataDir });
  await t.server.messagingReady;
  fs.writeFileSync(path.join(scratch, "handler.js"), HANDLER_JS);
  repo = path.join(scratch, "repo");
  fs.mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], { cwd: repo });
  git("init", "-q", "-b", "main");
  fs.writeFileSync(path.join(repo, "app.txt"), "hello\n");
  git("add", ".");
  git("commit", "-q", "-m", "First commit");
  dataOf(
    await t.gql(
      `mutation ($input: CustomActionTypeInput!) { createCustomActionType(input: $input) { id { provider } } }`,
      {
        input: {
          category: "Deploy",
          provider: "Vault",
          version: "1",
          configurationProperties: [
            { name: "Token", required: true, secret: true },
            { name: "Expect", required: true },
            { name: "Gate", required: false },
            { name: "Note", required: false },
          ],
          inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
          outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
        },
      },
    ),
  );
  const { createAgentToken } = dataOf(
    await t.gql(`mutation { createAgentToken(description: "secrets e2e") { token } }`),
  );
  startAgentProcess({
    natsUrl: nats.url,
    serverUrl: t.url,
    prefix: t.natsPrefix,
    token: createAgentToken.token,
    name: "keeper",
    providers: "Source/Sluice/Git@1",
    env: {
      SLUICE_AGENT_SECRET_ENV: "DEPLOY_KEY",
      DEPLOY_KEY: HOST_SECRET,
      SLUICE_AGENT_HANDLERS: `Deploy/Custom/Vault@1=${process.execPath} ${path.join(scratch, "handler.js")}`,
    },
  });
  await eventually(
    async () =>
      dataOf(await t.gql(`{ agents { name status } }`)).agents.some((a: any) => a.status === "online"),
    30_000,
    "the agent online",
  );
});

afterAll(async () => {
  await killAgents();
  await tap?.close();
  await t?.stop();
  await nats?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const EXECUTION = `query ($n: String!) { pipeline(name: $n) { executions(first: 1) { nodes {
  id status statusSummary stages { actions { id name status summary outputVariables } } } } } }`;

const EXECUTION_AGENTS = `query ($n: String!) { pipeline(name: $n) { executions(first: 1) { nodes {
  id status stages { actions { name status agent { id name } } } } } } }`;

async function runToEnd(pipeline: string): Promise<any> {
  const { releaseChange } = dataOf(
    await t.gql(`mutation ($p: String!) { releaseChange(pipelineName: $p) { id } }`, { p: pipeline }),
  );
  return eventually(
    async () => {
      const execution = dataOf(await t.gql(EXECUTION, { n: pipeline })).pipeline.executions.nodes[0];
      return execution?.id === releaseChange.id && ["Succeeded", "Failed"].includes(execution.status)
        ? execution
        : undefined;
    },
    90_000,
    `execution of ${pipeline} finished`,
  );
}

/** Every message of every stream of this test's NATS, subjects, headers and data, as text. */
async function everyJetStreamMessage(nc: NatsConnection): Promise<{ streams: string[]; text: string }> {
  const jsm = await jetstreamManager(nc);
  const streams: string[] = [];
  const parts: string[] = [];
  for await (const info of jsm.streams.list()) {
    streams.push(info.config.name);
    const { first_seq: first, last_seq: last } = info.state;
    for (let seq = first; seq <= last && last > 0; seq++) {
      const message = await jsm.streams.getMessage(info.config.name, { seq }).catch(() => null);
      if (!message) continue; // deleted (work queue acks, purges)
      parts.push(message.subject, JSON.stringify(message.header ? [...message.header] : []));
      parts.push(Buffer.from(message.data).toString("utf8"), Buffer.from(message.data).toString("latin1"));
    }
  }
  return { streams, text: parts.join("\n") };
}

function leakChecks(text: string, where: string, secret = SECRET): void {
  const forms = [
    secret,
    Buffer.from(secret).toString("base64"),
    Buffer.from(secret).toString("base64url"),
    Buffer.from(secret).toString("hex"),
  ];
  for (const form of forms) {
    if (text.includes(form))
      throw new Error(`the secret (as ${JSON.stringify(form.slice(0, 8))}…) is in ${where}`);
  }
}

const pipeline = (name: string, token: string, expected: string, gate?: string, note?: string) => ({
  name,
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
          configuration: {
            Token: token,
            Expect: expected,
            ...(gate ? { Gate: gate } : {}),
            ...(note ? { Note: note } : {}),
          },
        },
      ],
    },
  ],
});

it("delivers a secret to the job's process only: nowhere at rest, on the wire or in the log", async () => {
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: pipeline("sealed", SECRET, SECRET_SHA256),
    }),
  );
  const execution = await runToEnd("sealed");
  const unlock = execution.stages[1].actions[0];
  // The process saw the value: it compared its hash (or the action would have failed) and handed it back.
  expect({ status: execution.status, summary: execution.statusSummary }).toMatchObject({
    status: "Succeeded",
  });
  expect(unlock.outputVariables).toEqual({ TOKEN_SHA256: SECRET_SHA256 });

  // The log the API serves shows the masks where the process printed the value, even split in two.
  const { actionLog } = dataOf(
    await t.gql(`query ($id: ID!) { actionLog(actionExecutionId: $id) { nodes { stream text } } }`, {
      id: unlock.id,
    }),
  );
  const lines: Array<{ stream: string; text: string }> = actionLog.nodes;
  expect(lines).toEqual(
    expect.arrayContaining([
      { stream: "stdout", text: "token is **** (end)" },
      { stream: "stderr", text: "stderr has it too: ****" },
    ]),
  );
  expect(lines.some((l) => l.text.includes("secret value(s) sealed for this agent"))).toBe(true);
  leakChecks(JSON.stringify(lines), "the served log");

  // PostgreSQL: a dump of the whole database holds envelopes, never the value.
  const dump = (
    await promisify(execFile)("pg_dump", ["--no-owner", t.database!.url], { maxBuffer: 256 * 1024 * 1024 })
  ).stdout;
  expect(dump).toContain("sluice:enc:v1:");
  expect(dump).toContain("secret_data_keys");
  leakChecks(dump, "the pg_dump");

  // JetStream: every message of every stream (this NATS is the test's own).
  const nc = await connect({ servers: nats.url });
  try {
    const { streams, text } = await everyJetStreamMessage(nc);
    expect(streams).toEqual(
      expect.arrayContaining([
        `${t.natsPrefix}_JOBS`,
        `${t.natsPrefix}_RESULTS`,
        `${t.natsPrefix}_LOGS`,
        `${t.natsPrefix}_EVENTS`,
      ]),
    );
    expect(text).toContain("**** (end)");
    expect(text).toContain("stderr has it too: ****");
    leakChecks(text, "JetStream");
    // On the wire: the job carried the envelope, the secrets came sealed, the artifacts went by.
    await tap.flush();
    const wired = wire.join("\n");
    expect(wired).toContain(`${t.natsPrefix}.jobs.`);
    expect(wired).toContain("sluice:enc:v1:");
    expect(wired).toContain(`${t.natsPrefix}.agents.secrets`);
    expect(wired).toContain("ephemeralPublicKey");
    expect(wired).toContain("$O.");
    leakChecks(wired, "a message on the NATS");
  } finally {
    await nc.close();
  }

  // The master key file the server made on its first start: the owner's only.
  const keyFile = path.join(dataDir, "master-key");
  expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
});

it("rotates the master key with `sluice admin rotate-key` without downtime: re-wrapped, still runs", async () => {
  const db = new Client({ connectionString: t.database!.url });
  await db.connect();
  try {
    const before = (await db.query(`SELECT DISTINCT master_key_id AS id FROM secret_data_keys`)).rows;
    expect(before).toHaveLength(1);
    const keyBefore = fs.readFileSync(path.join(dataDir, "master-key"), "utf8");

    // Through the CLI, as an operator does: `sluice admin rotate-key`.
    // (Asynchronously: the server runs in this process.)
    const cli = await promisify(execFile)(process.execPath, [CLI, "admin", "rotate-key"], {
      env: { PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: ADMIN_TOKEN },
    });
    const rotateMasterKey = JSON.parse(cli.stdout);
    expect(rotateMasterKey.source).toBe("FILE");
    expect(rotateMasterKey.rewrapped).toBeGreaterThanOrEqual(1);
    expect(rotateMasterKey.masterKeyId).not.toBe(before[0].id);
    const after = (await db.query(`SELECT DISTINCT master_key_id AS id FROM secret_data_keys`)).rows;
    expect(after).toEqual([{ id: rotateMasterKey.masterKeyId }]);
    const keyAfter = fs.readFileSync(path.join(dataDir, "master-key"), "utf8");
    expect(keyAfter).not.toBe(keyBefore);
    expect(keyAfter.trim().split("\n")).toHaveLength(1);

    // The audit log has the rotation, under the installation.
    const audit = dataOf(
      await t.gql(
        `{ auditEvents(first: 1, operation: "rotateMasterKeyV2") { nodes { operation outcome } } }`,
      ),
    ).auditEvents.nodes;
    expect(audit).toEqual([{ operation: "rotateMasterKeyV2", outcome: "ok" }]);
  } finally {
    await db.end();
  }
  const again = await runToEnd("sealed");
  expect(again.status).toBe("Succeeded");
  expect(again.stages[1].actions[0].outputVariables).toEqual({ TOKEN_SHA256: SECRET_SHA256 });
});

it("resolves {{resolve:agent-env:NAME}} on the agent's host only: the value is nowhere else", async () => {
  const hostHash = crypto.createHash("sha256").update(HOST_SECRET).digest("hex");
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: pipeline("kept-home", "{{resolve:agent-env:DEPLOY_KEY}}", hostHash),
    }),
  );
  const execution = await runToEnd("kept-home");
  expect({ status: execution.status, summary: execution.statusSummary }).toEqual({
    status: "Succeeded",
    summary: null,
  });
  const unlock = execution.stages[1].actions[0];
  expect(unlock.outputVariables).toEqual({ TOKEN_SHA256: hostHash });
  const { actionLog } = dataOf(
    await t.gql(`query ($id: ID!) { actionLog(actionExecutionId: $id) { nodes { stream text } } }`, {
      id: unlock.id,
    }),
  );
  expect(actionLog.nodes).toEqual(
    expect.arrayContaining([
      { stream: "system", text: "Resolved 1 secret reference(s) on this host" },
      { stream: "stdout", text: "token is **** (end)" },
    ]),
  );
  const dump = (
    await promisify(execFile)("pg_dump", ["--no-owner", t.database!.url], { maxBuffer: 256 * 1024 * 1024 })
  ).stdout;
  leakChecks(dump, "the pg_dump", HOST_SECRET);
  await tap.flush();
  leakChecks(wire.join("\n"), "a message on the NATS", HOST_SECRET);
  const nc = await connect({ servers: nats.url });
  try {
    leakChecks((await everyJetStreamMessage(nc)).text, "JetStream", HOST_SECRET);
  } finally {
    await nc.close();
  }
});

it("answers a forged secrets request with nothing usable: refused, or sealed for the real agent only", async () => {
  const gate = path.join(scratch, "gate");
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: pipeline("gated", SECRET, SECRET_SHA256, gate),
    }),
  );
  // Creating the pipeline started its first execution.
  // An attacker on the NATS reads the job (and its lease token) off the wire.
  const job = await eventually(
    async () => {
      const found = wireMessages
        .filter((m) => m.subject.startsWith(`${t.natsPrefix}.jobs.`))
        .map((m) => {
          try {
            return JSON.parse(m.data);
          } catch {
            return null;
          }
        })
        .find((j) => j?.pipelineName === "gated" && j?.actionName === "Unlock");
      return found as { jobId: string; attempt: number; leaseToken: string } | undefined;
    },
    60_000,
    "the gated job on the wire",
  );
  const running = await eventually(
    async () => {
      const execution = dataOf(await t.gql(EXECUTION_AGENTS, { n: "gated" })).pipeline.executions.nodes[0];
      const action = execution.stages[1].actions[0];
      return action.status === "InProgress" && action.agent ? action : undefined;
    },
    60_000,
    "the gated job running on the agent",
  );
  const agentId: string = running.agent.id;

  const attacker = await connect({ servers: nats.url });
  try {
    const names = natsNames(t.natsPrefix);
    const ask = async (request: Record<string, unknown>) => {
      const reply = await attacker.request(
        names.subjects.secrets,
        encode("secretsRequest", request as never),
        {
          timeout: 5000,
        },
      );
      const decoded = decode("secretsReply", reply.data);
      if (!decoded.ok) throw new Error(decoded.error.message);
      return decoded.message;
    };
    const base = { jobId: job.jobId, attempt: job.attempt };
    expect(await ask({ ...base, leaseToken: "x".repeat(43), agentId })).toMatchObject({
      ok: false,
      code: "Unauthenticated",
    });
    expect(await ask({ ...base, leaseToken: job.leaseToken, agentId: crypto.randomUUID() })).toMatchObject({
      ok: false,
      code: "Unauthenticated",
    });
    // A registered agent of its own, with its own key: not the agent that runs the job.
    const { createAgentToken } = dataOf(
      await t.gql(`mutation { createAgentToken(description: "rogue") { token } }`),
    );
    const rogueKeys = generateSealKeyPair();
    const registered = decode(
      "registerReply",
      (
        await attacker.request(
          names.subjects.register,
          encode("registerRequest", {
            protocolVersion: PROTOCOL_VERSION,
            token: createAgentToken.token,
            name: "rogue",
            providers: [VAULT],
            version: "0.0.1",
            publicKey: rogueKeys.publicKey,
          }),
          { timeout: 5000 },
        )
      ).data,
    );
    if (!registered.ok || !registered.message.ok) throw new Error("the rogue agent was not registered");
    const rogueId = registered.message.agentId;
    expect(await ask({ ...base, leaseToken: job.leaseToken, agentId: rogueId })).toMatchObject({
      ok: false,
      code: "NotYourJob",
    });
    // Naming the real agent: the box is sealed for the real agent's key, which the attacker lacks.
    const sealed = await ask({ ...base, leaseToken: job.leaseToken, agentId });
    if (!sealed.ok) throw new Error(`expected a sealed box, got ${sealed.code}`);
    expect(JSON.stringify(sealed)).not.toContain(SECRET);
    expect(() => openSealed(sealed.sealed, rogueKeys, secretsContext(job.jobId, job.attempt))).toThrow();
  } finally {
    await attacker.close();
  }
  fs.writeFileSync(gate, "open\n");
  const execution = await eventually(
    async () => {
      const e = dataOf(await t.gql(EXECUTION, { n: "gated" })).pipeline.executions.nodes[0];
      return ["Succeeded", "Failed"].includes(e.status) ? e : undefined;
    },
    60_000,
    "the gated execution finished",
  );
  expect(execution.status).toBe("Succeeded");
  // Once the attempt is over, nobody gets its secrets.
  const late = await connect({ servers: nats.url });
  try {
    const reply = await late.request(
      natsNames(t.natsPrefix).subjects.secrets,
      encode("secretsRequest", {
        jobId: job.jobId,
        attempt: job.attempt,
        leaseToken: job.leaseToken,
        agentId,
      }),
      { timeout: 5000 },
    );
    expect(decode("secretsReply", reply.data)).toMatchObject({
      ok: true,
      message: { ok: false, code: "JobFinished" },
    });
  } finally {
    await late.close();
  }
});

/** Runs the CLI in a child process (the server runs in this one), `stdin` written to it. */
function cli(args: string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: ADMIN_TOKEN },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

it("resolves {{resolve:secret:NAME}} from the secret store for the job only; the installation's secrets are encrypted too", async () => {
  // Put through the CLI as an operator does, the value on standard input.
  const put = await cli(
    ["put-secret", "release-token", "--value-stdin", "--description", "e2e"],
    `${STORE_SECRET}\n`,
  );
  expect({ code: put.code, stderr: put.stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(put.stdout)).toMatchObject({ name: "release-token", version: 1, description: "e2e" });
  expect(put.stdout).not.toContain(STORE_SECRET);
  const listed = await cli(["list-secrets"]);
  expect(JSON.parse(listed.stdout).secrets.map((s: { name: string }) => s.name)).toEqual(["release-token"]);
  expect(listed.stdout).not.toContain(STORE_SECRET);

  // The reference in a secret property (Token, stored as an envelope of the reference) and inside
  // a plain value (Note), both replaced on the agent.
  const storeHash = crypto.createHash("sha256").update(STORE_SECRET).digest("hex");
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: pipeline(
        "from-store",
        "{{resolve:secret:release-token}}",
        storeHash,
        undefined,
        "before-{{resolve:secret:release-token}}-after",
      ),
    }),
  );
  // The installation's other secrets, to look for in the same dump: a webhook's, a target's.
  const { createPipelineWebhook } = dataOf(
    await t.gql(`mutation { createPipelineWebhook(pipelineName: "from-store") { secret } }`),
  );
  const targetSecret = `tgt-${crypto.randomBytes(12).toString("hex")}`;
  const headerToken = `hdr-${crypto.randomBytes(12).toString("hex")}`;
  const slackToken = `slk${crypto.randomBytes(12).toString("hex")}`;
  dataOf(
    await t.gql(
      `mutation ($a: NotificationTargetInput!, $b: NotificationTargetInput!) {
         a: createNotificationTarget(target: $a) { id } b: createNotificationTarget(target: $b) { id } }`,
      {
        a: {
          name: "hook",
          kind: "WEBHOOK",
          url: "https://hooks.example.com/sluice",
          secret: targetSecret,
          headers: [{ name: "Authorization", value: `Bearer ${headerToken}` }],
        },
        b: { name: "chat", kind: "SLACK", url: `https://hooks.slack.com/services/T0/B0/${slackToken}` },
      },
    ),
  );

  const execution = await runToEnd("from-store");
  expect({ status: execution.status, summary: execution.statusSummary }).toEqual({
    status: "Succeeded",
    summary: null,
  });
  const unlock = execution.stages[1].actions[0];
  // The process saw the value (its hash matched, and it handed the hash back).
  expect(unlock.outputVariables).toEqual({ TOKEN_SHA256: storeHash });
  const { actionLog } = dataOf(
    await t.gql(`query ($id: ID!) { actionLog(actionExecutionId: $id) { nodes { stream text } } }`, {
      id: unlock.id,
    }),
  );
  expect(actionLog.nodes).toEqual(
    expect.arrayContaining([
      { stream: "system", text: "Opened 2 secret value(s) sealed for this agent" },
      { stream: "stdout", text: "note: before-****-after" },
      { stream: "stdout", text: "token is **** (end)" },
    ]),
  );
  leakChecks(JSON.stringify(actionLog.nodes), "the served log", STORE_SECRET);

  const vault = new SecretVault(t.server.db, new MasterKeyring({ dataDir }));
  const leaseKey = await leaseKeyOf(t.server.db, vault);
  const dump = (
    await promisify(execFile)("pg_dump", ["--no-owner", t.database!.url], { maxBuffer: 256 * 1024 * 1024 })
  ).stdout;
  expect(dump).toContain("{{resolve:secret:release-token}}");
  expect(dump).toContain("stored_secret_versions");
  for (const [value, what] of [
    [STORE_SECRET, "the secret store's value"],
    [createPipelineWebhook.secret, "the pipeline webhook's secret"],
    [targetSecret, "the notification target's secret"],
    [headerToken, "the notification target's header"],
    [slackToken, "the Slack target's URL token"],
    [leaseKey, "the lease key"],
  ] as const)
    leakChecks(dump, `the pg_dump (${what})`, value);

  await tap.flush();
  const wired = wire.join("\n");
  // The job carried the reference, the value went sealed.
  expect(wired).toContain("{{resolve:secret:release-token}}");
  leakChecks(wired, "a message on the NATS", STORE_SECRET);
  const nc = await connect({ servers: nats.url });
  try {
    leakChecks((await everyJetStreamMessage(nc)).text, "JetStream", STORE_SECRET);
  } finally {
    await nc.close();
  }

  // A new version is what the next job gets; a rotation of the master key changes nothing for it.
  const next = `n3xt-${crypto.randomBytes(12).toString("hex")}`;
  expect((await cli(["put-secret", "release-token", "--value-stdin"], next)).code).toBe(0);
  const rotated = await cli(["admin", "rotate-key"]);
  expect(rotated.code).toBe(0);
  const after = JSON.parse(rotated.stdout);
  const masters = await t.server.db.query(`SELECT DISTINCT master_key_id AS id FROM secret_data_keys`);
  expect(masters).toEqual([{ id: after.masterKeyId }]);
  dataOf(
    await t.gql(
      `mutation ($input: PipelineInput!, $v: Int!) { updatePipeline(input: $input, expectedVersion: $v) { version } }`,
      {
        input: pipeline(
          "from-store",
          "{{resolve:secret:release-token}}",
          crypto.createHash("sha256").update(next).digest("hex"),
          undefined,
          "before-{{resolve:secret:release-token}}-after",
        ),
        v: 1,
      },
    ),
  );
  const again = await runToEnd("from-store");
  expect(again.status).toBe("Succeeded");

  // Deleted: the next job fails saying which secret is missing, and never runs its command.
  const deleted = await cli(["delete-secret", "release-token"]);
  expect(deleted).toMatchObject({ code: 0, stderr: "Deleted the secret release-token.\n" });
  const failed = await runToEnd("from-store");
  expect(failed.status).toBe("Failed");
  expect(failed.stages[1].actions[0].summary).toContain("release-token");
});
