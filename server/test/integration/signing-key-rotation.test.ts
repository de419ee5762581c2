/**
 * Rotating the key that signs jobs and cancels (PROTOCOL.md 11.5, "Rotation") with nats-server in
 * the secured configuration and a real agent: `sluice admin rotate-signing-key` (the built CLI,
 * over the `rotateSigningKey` mutation) while the agent is connected. The next job is signed with
 * the new key and runs — the agent learns the key by asking for its credentials again, long before
 * its renewal —, a job signed with the old key still runs within the grace, and once the grace is
 * over a job signed with the old key is refused.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { connect, headers, jwtAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { createUser } from "@nats-io/nkeys";
import {
  MSG_ID_HEADER,
  PROTOCOL_VERSION,
  SIGNATURE_HEADERS,
  decode,
  encode,
  msgIds,
  natsNames,
  signMessage,
  type ActionTypeId,
  type MessageSigningKey,
  type NatsCredentialsReply,
} from "@sluice/protocol";
import { MasterKeyring, SecretVault } from "../../src/persistence/secret-vault";
import { SigningKeyStore } from "../../src/persistence/signing-key-store";
import { killAgents, startAgentProcess, type AgentProcess } from "../support/agent-process";
import { startSecuredNats, type SecuredNats } from "../support/secured-nats";
import { gitRepository, shellBuild, sourceThen } from "../support/documents";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(180_000);

const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");
const SHELL: ActionTypeId = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" };
/** The grace of the rotation under test: the old key is refused this long after it. */
const GRACE_SECONDS = 20;

let dataDir: string;
let scratch: string;
let nats: SecuredNats;
let t: TestServer;
let base: string;
let agent: AgentProcess;
let observer: NatsConnection;
/** The keys that signed the Build jobs published, by execution id. */
const jobKeys = new Map<string, string[]>();

async function createToken(description: string): Promise<string> {
  const { createAgentToken } = dataOf(
    await t.gql(`mutation ($d: String!) { createAgentToken(description: $d) { token } }`, { d: description }),
  );
  return createAgentToken.token;
}

/** What a credentials answer lists now: the keys agents trust, and when the retiring ones stop. */
async function credentialsKeys(): Promise<Pick<NatsCredentialsReply, "serverKeys" | "serverKeysRetiring">> {
  const response = await fetch(`${base}/agents/nats-credentials`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await createToken("look")}` },
    body: JSON.stringify({
      publicKey: createUser().getPublicKey(),
      name: "look",
      pool: "look",
      providers: [SHELL],
    }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as NatsCredentialsReply;
  return { serverKeys: body.serverKeys, serverKeysRetiring: body.serverKeysRetiring };
}

async function runToSuccess(): Promise<string> {
  const { releaseChange } = dataOf(
    await t.gql(`mutation { releaseChange(pipelineName: "rotating") { id } }`),
  );
  await eventually(
    async () => {
      const { pipelineExecution } = dataOf(
        await t.gql(`query ($id: ID!) { pipelineExecution(id: $id) { status } }`, { id: releaseChange.id }),
      );
      if (pipelineExecution.status === "Failed" || pipelineExecution.status === "Stopped")
        throw new Error(`the execution ended ${pipelineExecution.status}`);
      return pipelineExecution.status === "Succeeded";
    },
    60_000,
    "the execution to succeed",
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the agent said:\n${agent.output().slice(-3000)}`);
  });
  return releaseChange.id;
}

/** The keys that signed an execution's Build jobs (as the server published them). */
function keysOfExecution(executionId: string): string[] {
  return jobKeys.get(executionId) ?? [];
}

/**
 * Publishes into the jobs stream, as the server's NATS user, a Shell job signed with `key` (one of
 * the server's keys, read from the store), its command `command`. Answers its stream sequence.
 */
async function publishJob(key: MessageSigningKey, command: string): Promise<number> {
  const subject = natsNames(t.natsPrefix).subjects.job("default", SHELL);
  const executionId = randomUUID();
  const jobId = randomUUID();
  const body = encode(
    "job",
    {
      protocolVersion: PROTOCOL_VERSION,
      jobId,
      attempt: 1,
      executionId,
      pipelineName: "rotating",
      stageName: "Build",
      actionName: "Make",
      actionTypeId: SHELL,
      configuration: { Commands: command },
      inputArtifacts: [],
      outputArtifacts: [],
      outputArtifactKeyPrefix: `${executionId}/${jobId}/1/`,
      leaseToken: "F".repeat(43),
      pool: "default",
      timeoutInMinutes: 5,
      context: { pipelineExecutionId: executionId, variables: {} },
      dispatchedAt: new Date().toISOString(),
      leaseSeconds: 30,
      heartbeatIntervalSeconds: 1,
    },
    subject,
  );
  const msgId = msgIds.job(jobId, 1);
  const h = headers();
  h.set(MSG_ID_HEADER, msgId);
  for (const [name, value] of Object.entries(signMessage(key, { subject, msgId, body }, 3_600_000)))
    h.set(name, value);
  const stored = await observer.request(subject, body, { headers: h, timeout: 5000 });
  const seq = stored.json<{ seq?: number }>().seq;
  expect(seq).toBeGreaterThan(0);
  return seq!;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-key-rotation-"));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-key-rotation-scratch-"));
  fs.chmodSync(scratch, 0o777);
  nats = await startSecuredNats(dataDir);
  t = await startTestServer({
    dataDir,
    env: { NATS_URL: nats.url, SLUICE_NATS_INSECURE: "0", SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1" },
  });
  await t.server.messagingReady;
  base = t.url.replace(/\/graphql$/, "");
  // The server's own NATS user sees every job published, with its signature headers.
  const server = await nats.identity.serverCredentials();
  observer = await connect({ servers: nats.url, authenticator: jwtAuthenticator(server.jwt, server.seed) });
  observer.subscribe(natsNames(t.natsPrefix).subjects.job("default", SHELL), {
    callback: (err, msg) => {
      const decoded = err ? null : decode("job", msg.data, msg.subject);
      if (!decoded?.ok) return;
      const { executionId } = decoded.message;
      jobKeys.set(executionId, [
        ...(jobKeys.get(executionId) ?? []),
        msg.headers?.get(SIGNATURE_HEADERS.key) ?? "",
      ]);
    },
  });
  await observer.flush();
  agent = startAgentProcess({
    natsUrl: nats.url,
    prefix: t.natsPrefix,
    serverUrl: base,
    token: await createToken("rotation"),
    name: "rotation-1",
    concurrency: 1,
    // Its credentials last an hour: it learns the new key by asking again, not by renewing.
    env: { SLUICE_SERVER_URL: base, SLUICE_NATS_INSECURE: "0" },
  });
  const repo = gitRepository(path.join(scratch, "repo"));
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: sourceThen(
        "rotating",
        { name: "Build", actions: [shellBuild("Make", "cat app.txt")] },
        {
          checkout: { Repository: `file://${repo}` },
        },
      ),
    }),
  );
});

afterAll(async () => {
  await killAgents();
  await observer?.close();
  await t?.stop();
  await nats?.stop();
  for (const dir of [dataDir, scratch]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it("rotates with `sluice admin rotate-signing-key` while an agent is connected; the next job is signed with the new key and runs; the old key is refused after its grace", async () => {
  // The execution that createPipeline started, signed with the first key.
  const first = dataOf(
    await t.gql(`query { pipeline(name: "rotating") { executions(first: 1) { nodes { id } } } }`),
  ).pipeline.executions.nodes[0].id;
  await eventually(
    async () =>
      dataOf(await t.gql(`query ($id: ID!) { pipelineExecution(id: $id) { status } }`, { id: first }))
        .pipelineExecution.status === "Succeeded",
    60_000,
    "the first execution to succeed",
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the agent said:\n${agent.output().slice(-3000)}`);
  });
  const before = await credentialsKeys();
  expect(before.serverKeys).toHaveLength(1);
  expect(before.serverKeysRetiring).toBeUndefined();
  const oldKey = before.serverKeys[0]!;
  expect(keysOfExecution(first)).toContain(oldKey);
  // The old key's private half, as the test will need it to sign a job after the retirement.
  const vault = new SecretVault(t.server.db, new MasterKeyring({ dataDir }));
  const old: MessageSigningKey = (await new SigningKeyStore(t.server.db, vault).current()).key;
  expect(old.publicKey).toBe(oldKey);

  // Refused input: a grace out of range.
  const bad = await t.gql(
    `mutation { rotateSigningKey(input: { graceSeconds: -1 }) { rotation { publicKey } } }`,
  );
  expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(bad.errors?.[0]?.extensions?.validationErrors).toEqual([
    { path: "graceSeconds", message: expect.stringMatching(/between 0 and/) },
  ]);

  // Through the CLI, as an operator does. (Asynchronously: the server runs in this process.)
  const cli = await promisify(execFile)(
    process.execPath,
    [CLI, "admin", "rotate-signing-key", "--grace-seconds", String(GRACE_SECONDS)],
    { env: { PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: ADMIN_TOKEN } },
  );
  const rotation = JSON.parse(cli.stdout) as {
    publicKey: string;
    retiring: Array<{ publicKey: string; retiresAt: string }>;
  };
  expect(rotation.publicKey).not.toBe(oldKey);
  expect(rotation.retiring).toEqual([{ publicKey: oldKey, retiresAt: expect.any(String) }]);
  const retiresAt = Date.parse(rotation.retiring[0]!.retiresAt);
  expect(retiresAt - Date.now()).toBeLessThanOrEqual(GRACE_SECONDS * 1000);
  // Agents are told both, the new one first, and when the old one stops.
  expect(await credentialsKeys()).toEqual({
    serverKeys: [rotation.publicKey, oldKey],
    serverKeysRetiring: { [oldKey]: rotation.retiring[0]!.retiresAt },
  });
  // Audited, under the installation.
  const audit = dataOf(
    await t.gql(`{ auditEvents(first: 1, operation: "rotateSigningKey") { nodes { operation outcome } } }`),
  ).auditEvents.nodes;
  expect(audit).toEqual([{ operation: "rotateSigningKey", outcome: "ok" }]);

  // The next job: signed with the new key, run by the agent that had only the old one.
  const second = await runToSuccess();
  const secondKeys = keysOfExecution(second);
  expect(secondKeys).toContain(rotation.publicKey);
  expect(secondKeys).not.toContain(oldKey);
  expect(agent.output()).toContain("learnt the server's message keys again");

  // Within the grace, a job the old key signed (one queued before the rotation, say) still runs on
  // the agent that knows both keys. (Its lease token is made up: the server records nothing of it.)
  const duringGrace = path.join(scratch, "old-key-ran-during-grace");
  await publishJob(old, `touch ${duringGrace}`);
  await eventually(async () => fs.existsSync(duringGrace), 30_000, "the old key's job run within the grace");
  expect(Date.now()).toBeLessThan(retiresAt);

  // After the grace: the old key is listed no more, and a job it signs is refused.
  await eventually(
    async () => !(await credentialsKeys()).serverKeys.includes(oldKey),
    60_000,
    "the old key retired",
  );
  expect(Date.now()).toBeGreaterThanOrEqual(retiresAt);
  const marker = path.join(scratch, "old-key-ran-after");
  const stored = await publishJob(old, `touch ${marker}`);
  const refusal = await eventually(
    async () =>
      agent
        .output()
        .split("\n")
        .filter((line) => line.includes("refusing a job the server did not sign"))
        .map((line) => JSON.parse(line) as { subject: string; reason: string; streamSequence: number })
        .find((entry) => entry.streamSequence === stored),
    30_000,
    "the agent refusing the job signed with the retired key",
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the agent said:\n${agent.output().slice(-3000)}`);
  });
  expect(refusal).toMatchObject({
    subject: natsNames(t.natsPrefix).subjects.job("default", SHELL),
    reason: "UnknownKey",
  });
  expect(fs.existsSync(marker)).toBe(false);
  // The new key still signs, and jobs still run.
  expect(keysOfExecution(await runToSuccess())).toContain(rotation.publicKey);
});
