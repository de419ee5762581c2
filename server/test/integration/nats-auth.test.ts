/**
 * NATS in the secured configuration (issue #11, PROTOCOL.md section 13): a nats-server of this
 * test's own trusts the installation's operator; the server connects with its own user, and each
 * agent exchanges its Sluice agent token for a short-lived user whose subjects are its pool's and
 * providers' only. NATS itself refuses everything else: a client without credentials, with a revoked
 * agent's, or with another agent's, on every forbidden subscribe and publish (listed by subject class
 * below). A forged complete on an allowed subject changes nothing, and a real agent runs a job.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createUser, type KeyPair } from "@nats-io/nkeys";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  connect,
  jwtAuthenticator,
  type NatsConnection,
  type PermissionViolationError,
} from "@nats-io/transport-node";
import {
  agentInboxPrefix,
  encode,
  jobConsumerConfig,
  msgIds,
  natsNames,
  objectStoreStream,
  type ActionTypeId,
  type NatsCredentialsReply,
} from "@sluice/protocol";
import { killAgents, startAgentProcess } from "../support/agent-process";
import { startSecuredNats, type SecuredNats } from "../support/secured-nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(120_000);

const SHELL: ActionTypeId = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" };
const GIT: ActionTypeId = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };

let dataDir: string;
let scratch: string;
let nats: SecuredNats;
let t: TestServer;
let base: string;
const open: NatsConnection[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-auth-"));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-auth-scratch-"));
  nats = await startSecuredNats(dataDir);
  t = await startTestServer({
    dataDir,
    env: {
      NATS_URL: nats.url,
      SLUICE_NATS_INSECURE: "0",
      SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1",
      SLUICE_LEASE_SECONDS: "4",
    },
  });
  await t.server.messagingReady;
  base = t.url.replace(/\/graphql$/, "");
});

afterAll(async () => {
  await killAgents();
  for (const nc of open) if (!nc.isClosed()) await nc.close().catch(() => undefined);
  await t?.stop();
  await nats?.stop();
  for (const dir of [dataDir, scratch]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function createToken(description: string): Promise<{ id: string; token: string }> {
  const { createAgentToken } = dataOf(
    await t.gql(`mutation ($d: String!) { createAgentToken(description: $d) { id token } }`, { d: description }),
  );
  return createAgentToken;
}

interface Credentials extends NatsCredentialsReply {
  key: KeyPair;
}

async function askCredentials(
  token: string | null,
  body: Record<string, unknown>,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}/agents/nats-credentials`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function credentials(token: string, name: string, pool: string, providers: ActionTypeId[]): Promise<Credentials> {
  const key = createUser();
  const answer = await askCredentials(token, { publicKey: key.getPublicKey(), name, pool, providers });
  expect(answer.status).toBe(200);
  return { ...(answer.body as NatsCredentialsReply), key };
}

/** A connection with these credentials; it records every permission violation NATS reports. */
async function connectAs(
  creds: { jwt: string; key: KeyPair; inboxPrefix: string },
  options: { reconnect?: boolean } = {},
): Promise<{ nc: NatsConnection; violations: PermissionViolationError[] }> {
  const nc = await connect({
    servers: nats.url,
    authenticator: jwtAuthenticator(creds.jwt, creds.key.getSeed()),
    inboxPrefix: creds.inboxPrefix,
    reconnect: options.reconnect ?? false,
  });
  open.push(nc);
  const violations: PermissionViolationError[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "error" && (status.error as Error).name === "PermissionViolationError")
        violations.push(status.error as PermissionViolationError);
    }
  })();
  return { nc, violations };
}

/** Waits until NATS reported a violation of `operation` on `subject` to this connection. */
async function refused(
  violations: PermissionViolationError[],
  operation: "publish" | "subscription",
  subject: string,
): Promise<void> {
  await eventually(
    () => violations.some((v) => v.operation === operation && v.subject === subject),
    10_000,
    `NATS refusing ${operation} to ${subject}`,
  );
}

it("refuses a client without credentials, or with a JWT whose seed it does not hold", async () => {
  await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
  const { token } = await createToken("stolen-jwt");
  const victim = await credentials(token, "victim", "default", [SHELL]);
  // Another agent's JWT without its seed: the signature of the server's nonce does not match.
  await expect(
    connect({
      servers: nats.url,
      authenticator: jwtAuthenticator(victim.jwt, createUser().getSeed()),
      reconnect: false,
    }),
  ).rejects.toThrow(/Authorization Violation/i);
});

it("hands out credentials only to a valid agent token, and writes each exchange to the audit log", async () => {
  const publicKey = createUser().getPublicKey();
  const body = { publicKey, name: "audited", pool: "default", providers: [SHELL] };
  expect((await askCredentials(null, body)).status).toBe(401);
  expect((await askCredentials("sat_not-a-token-0123456789", body)).status).toBe(401);
  // The admin token is not an agent token.
  expect((await askCredentials(ADMIN_TOKEN, body)).status).toBe(401);
  const { id, token } = await createToken("audited");
  const bad = await askCredentials(token, { ...body, publicKey: "not-a-key" });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toMatch(/publicKey/);
  const ok = await askCredentials(token, body);
  expect(ok.status).toBe(200);
  expect(ok.body.inboxPrefix).toBe(agentInboxPrefix(ok.body.agentId));
  // Another token cannot take over a key that is already an agent's (it would escape a revocation).
  const other = await createToken("thief");
  expect((await askCredentials(other.token, body)).status).toBe(409);
  const rows: Array<{ outcome: string; principal: string }> = await t.server.db.query(
    `SELECT outcome, principal FROM audit_events WHERE operation = 'POST /agents/nats-credentials' AND principal = $1
      ORDER BY at`,
    [`agent-token/${id}`],
  );
  expect(rows.map((r) => r.outcome)).toEqual(["BAD_USER_INPUT", "ok"]);
  // The JWT carries no secret of the server and expires within the hour.
  const claims = JSON.parse(Buffer.from(ok.body.jwt.split(".")[1], "base64url").toString());
  expect(claims.sub).toBe(publicKey);
  expect(claims.exp * 1000 - Date.now()).toBeLessThanOrEqual(3600_000 + 5000);
});
