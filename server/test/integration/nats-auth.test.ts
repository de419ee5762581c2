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
import { jetstream } from "@nats-io/jetstream";
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
import { gitRepository, shellBuild, sourceThen } from "../support/documents";
import { startSecuredNats, type SecuredNats } from "../support/secured-nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(120_000);

const SHELL: ActionTypeId = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" };
const GIT: ActionTypeId = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };

let dataDir: string;
let scratch: string;
let nats: SecuredNats;
let tls: { caFile: string };
let t: TestServer;
let base: string;
const open: NatsConnection[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-auth-"));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-auth-scratch-"));
  // Jobs of an agent running as root run as uids of their own: they read the repository and the flag here.
  fs.chmodSync(scratch, 0o755);
  // TLS too: every connection of this file is encrypted, to a CA of the test's own.
  nats = await startSecuredNats(dataDir, { tls: true });
  tls = { caFile: nats.caFile! };
  t = await startTestServer({
    dataDir,
    env: {
      NATS_URL: nats.url,
      SLUICE_NATS_INSECURE: "0",
      SLUICE_NATS_CA_FILE: nats.caFile!,
      SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1",
      SLUICE_LEASE_SECONDS: "4",
      // The shortest life, so that the renewal test sees agents renew.
      SLUICE_NATS_CREDENTIALS_SECONDS: "30",
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
    await t.gql(`mutation ($d: String!) { createAgentToken(description: $d) { id token } }`, {
      d: description,
    }),
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

async function credentials(
  token: string,
  name: string,
  pool: string,
  providers: ActionTypeId[],
): Promise<Credentials> {
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
    tls,
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
    async () => violations.some((v) => v.operation === operation && v.subject === subject),
    10_000,
    `NATS refusing ${operation} to ${subject}`,
  );
}

it("refuses a client without credentials, with a JWT whose seed it does not hold, or without TLS", async () => {
  await expect(connect({ servers: nats.url, reconnect: false, tls })).rejects.toThrow(
    /Authorization Violation/i,
  );
  // A client that does not trust the installation's CA does not get a connection at all.
  await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow();
  const { token } = await createToken("stolen-jwt");
  const victim = await credentials(token, "victim", "default", [SHELL]);
  // Another agent's JWT without its seed: the signature of the server's nonce does not match.
  await expect(
    connect({
      servers: nats.url,
      authenticator: jwtAuthenticator(victim.jwt, createUser().getSeed()),
      reconnect: false,
      tls,
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
  // The JWT is for the agent's key and expires after SLUICE_NATS_CREDENTIALS_SECONDS.
  const claims = JSON.parse(Buffer.from(ok.body.jwt.split(".")[1], "base64url").toString());
  expect(claims.sub).toBe(publicKey);
  expect(claims.exp * 1000 - Date.now()).toBeLessThanOrEqual(30_000 + 5000);
  expect(ok.body.expiresAt).toBe(new Date(claims.exp * 1000).toISOString());
});

it("lets an agent reach only its own subjects: NATS refuses every other subscribe and publish", async () => {
  const names = natsNames(t.natsPrefix);
  const p = t.natsPrefix;
  const J = names.streams.jobs;
  const { token } = await createToken("least-privilege");
  const a = await credentials(token, "agent-a", "pool-a", [SHELL]);
  const b = await credentials(token, "agent-b", "pool-b", [SHELL]);
  const durableA = jobConsumerConfig(p, "pool-a", SHELL).durable_name;
  const durableB = jobConsumerConfig(p, "pool-b", SHELL).durable_name;
  const { nc, violations } = await connectAs(a);

  // What it may do works: register (a request answered on its own inbox), then look up and pull
  // from its own job consumer, and publish to the results stream.
  const reply = await nc.request(
    names.subjects.register,
    encode("registerRequest", {
      protocolVersion: 3,
      token,
      name: "agent-a",
      pool: "pool-a",
      providers: [SHELL],
      version: "test",
      capacity: 1,
      labels: {},
    }),
    { timeout: 10_000 },
  );
  expect(reply.json<{ ok: boolean; agentId: string }>()).toMatchObject({ ok: true, agentId: a.agentId });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(J, durableA);
  const none = await consumer.fetch({ max_messages: 1, expires: 1000 });
  for await (const _ of none) throw new Error("no job was queued");
  const ack = await js.publish(names.subjects.heartbeat, new TextEncoder().encode("{}"));
  expect(ack.stream).toBe(names.streams.results);
  expect(violations).toEqual([]);

  // Every subject class it may not subscribe to.
  const forbiddenSubscriptions = [
    `${p}.jobs.>`, // every job, and its own pool's raw subject (jobs come only through its consumer)
    names.subjects.job("pool-a", SHELL),
    names.subjects.job("pool-b", SHELL), // another pool's jobs
    `${p}.results.>`, // accepts, heartbeats and completes of every agent (their lease tokens)
    `${p}.logs.>`, // every job's log
    `${p}.cancel.>`,
    `${p}.events.>`,
    names.subjects.installation,
    names.subjects.register, // other agents' registrations carry their tokens
    names.subjects.agentHeartbeat,
    names.subjects.agentCancel(b.agentId), // another agent's cancels
    `${p}.server.agents`,
    "_INBOX.>", // the server's inboxes
    `${agentInboxPrefix(b.agentId)}.>`, // another agent's inbox (its pulled jobs, its replies)
    "$JS.API.>",
    "$JS.ACK.>",
    // The artifacts bucket: agents move artifacts through the server's HTTP routes (PROTOCOL.md 9.3).
    `$O.${names.artifactsBucket}.>`,
    `$O.${names.artifactsBucket}.C.>`,
    `$O.${names.artifactsBucket}.M.>`,
    `$JS.FC.${objectStoreStream(names.artifactsBucket)}.>`,
    "$SYS.>",
    ">",
  ];
  for (const subject of forbiddenSubscriptions) nc.subscribe(subject, { callback: () => undefined });
  for (const subject of forbiddenSubscriptions) await refused(violations, "subscription", subject);

  // Every subject class it may not publish to.
  const objects = objectStoreStream(names.artifactsBucket);
  const forbiddenPublishes = [
    names.subjects.job("pool-a", SHELL), // a job, even for its own pool
    names.subjects.job("pool-b", SHELL),
    names.subjects.cancel(a.agentId),
    names.subjects.agentCancel(b.agentId),
    names.subjects.event("any"),
    names.subjects.installation,
    `${p}.server.agents`,
    `$JS.API.STREAM.CREATE.evil`,
    `$JS.API.STREAM.UPDATE.${J}`,
    `$JS.API.STREAM.DELETE.${J}`,
    `$JS.API.STREAM.PURGE.${J}`,
    `$JS.API.STREAM.INFO.${J}`,
    `$JS.API.STREAM.LIST`,
    `$JS.API.STREAM.NAMES`,
    `$JS.API.STREAM.MSG.GET.${J}`, // reading the jobs stream
    `$JS.API.DIRECT.GET.${J}`,
    `$JS.API.STREAM.MSG.GET.${names.streams.results}`, // reading results (lease tokens)
    `$JS.API.DIRECT.GET.${names.streams.results}`,
    `$JS.API.STREAM.MSG.GET.${names.streams.events}`,
    `$JS.API.STREAM.MSG.DELETE.${names.streams.logs}`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${J}.evil`,
    `$JS.API.CONSUMER.CREATE.${J}`,
    `$JS.API.CONSUMER.DELETE.${J}.${durableA}`,
    `$JS.API.CONSUMER.LIST.${J}`,
    `$JS.API.CONSUMER.INFO.${J}.${durableB}`, // another pool's consumer
    `$JS.API.CONSUMER.MSG.NEXT.${J}.${durableB}`,
    `$JS.ACK.${J}.${durableB}.1.1.1.1.1`,
    `$JS.API.CONSUMER.MSG.NEXT.${names.streams.results}.${names.consumers.engine}`, // the server's consumer
    `$JS.API.STREAM.DELETE.${objects}`,
    `$JS.API.STREAM.UPDATE.${objects}`,
    // Every subject class of the artifacts bucket: agents have no access to it at all (their
    // artifacts go through the server's HTTP routes, which check the job's lease: PROTOCOL.md 9.3).
    `$O.${names.artifactsBucket}.C.chunkofanotherjob`, // writing chunks
    `$O.${names.artifactsBucket}.M.${Buffer.from("e/j/1/Out").toString("base64url")}`, // overwriting an object's metadata
    `$JS.API.STREAM.INFO.${objects}`, // listing object names (subjects_filter)
    `$JS.API.STREAM.PURGE.${objects}`, // purging another job's chunks
    `$JS.API.STREAM.MSG.GET.${objects}`, // reading another execution's objects
    `$JS.API.STREAM.MSG.DELETE.${objects}`,
    `$JS.API.DIRECT.GET.${objects}`,
    `$JS.API.DIRECT.GET.${objects}.$O.${names.artifactsBucket}.M.anything`,
    `$JS.API.CONSUMER.CREATE.${objects}`, // an ordered consumer reading every object
    `$JS.API.CONSUMER.CREATE.${objects}.reader.$O.${names.artifactsBucket}.C.anything`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${objects}.reader`,
    `$JS.API.CONSUMER.DELETE.${objects}.reader`,
    `$JS.API.CONSUMER.MSG.NEXT.${objects}.reader`,
    `$JS.FC.${objects}.1.1`,
    `$SYS.REQ.ACCOUNT.${nats.identity.accountPublicKey}.CLAIMS.UPDATE`,
    "$SYS.REQ.SERVER.PING",
    "_INBOX.anything",
  ];
  for (const subject of forbiddenPublishes) nc.publish(subject, "x");
  for (const subject of forbiddenPublishes) await refused(violations, "publish", subject);

  // The other agent, with its own credentials, may not reach this one's consumer either.
  const other = await connectAs(b);
  other.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${J}.${durableA}`, "{}");
  other.nc.subscribe(names.subjects.agentCancel(a.agentId), { callback: () => undefined });
  await refused(other.violations, "publish", `$JS.API.CONSUMER.MSG.NEXT.${J}.${durableA}`);
  await refused(other.violations, "subscription", names.subjects.agentCancel(a.agentId));
});

it("grants an agent of another account that account's jobs only, never the default account's pool", async () => {
  const names = natsNames(t.natsPrefix);
  const J = names.streams.jobs;
  dataOf(await t.gql(`mutation { createAccount(id: "team-b") { id } }`));
  const session = dataOf(
    await t.gql(
      `mutation { assumeRole(role: "srn:sluice:team-b:role/AccountAccessRole", sessionName: "agents") { secret } }`,
    ),
  ).assumeRole.secret as string;
  const { token } = dataOf(
    await t.gql(`mutation { createAgentToken(description: "team-b") { token } }`, {}, { token: session }),
  ).createAgentToken;
  // Pool `default`, as the default account's agents: the pool of its own account all the same.
  const creds = await credentials(token, "b-agent", "default", [SHELL]);
  expect(creds.account).toBe("team-b");
  const { nc, violations } = await connectAs(creds);
  const reply = await nc.request(
    names.subjects.register,
    encode("registerRequest", {
      protocolVersion: 3,
      token,
      name: "b-agent",
      pool: "default",
      providers: [SHELL],
      version: "test",
      capacity: 1,
      labels: {},
    }),
    { timeout: 10_000 },
  );
  expect(reply.json<{ ok: boolean; account?: string }>()).toMatchObject({ ok: true, account: "team-b" });
  const own = jobConsumerConfig(t.natsPrefix, "default", SHELL, { account: "team-b" }).durable_name;
  const defaults = jobConsumerConfig(t.natsPrefix, "default", SHELL).durable_name;
  const consumer = await jetstream(nc).consumers.get(J, own);
  const none = await consumer.fetch({ max_messages: 1, expires: 1000 });
  for await (const _ of none) throw new Error("no job was queued");
  expect(violations).toEqual([]);
  for (const subject of [
    `$JS.API.CONSUMER.INFO.${J}.${defaults}`,
    `$JS.API.CONSUMER.MSG.NEXT.${J}.${defaults}`,
    `$JS.ACK.${J}.${defaults}.1.1.1.1.1`,
  ]) {
    nc.publish(subject, "{}");
    await refused(violations, "publish", subject);
  }

  // A real agent on team-b's token pulls team-b's consumers under these permissions and runs
  // team-b's release; it is never refused anything (it asks for nothing of the default account).
  const repo = gitRepository(path.join(scratch, "team-b-repo"), "team b\n");
  const agent = startAgentProcess({
    natsUrl: nats.url,
    prefix: t.natsPrefix,
    serverUrl: base,
    token,
    name: "b-real",
    concurrency: 1,
    env: { SLUICE_SERVER_URL: base, SLUICE_NATS_INSECURE: "0", SLUICE_NATS_CA_FILE: tls.caFile },
  });
  const asB = { token: session };
  dataOf(
    await t.gql(
      `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`,
      {
        input: sourceThen(
          "tenant",
          { name: "Build", actions: [shellBuild("Make", "cat app.txt")] },
          { checkout: { Repository: `file://${repo}` } },
        ),
      },
      asB,
    ),
  );
  const done = await eventually(
    async () => {
      const execution = dataOf(await t.gql(EXECUTION, { n: "tenant" }, asB)).pipeline.executions.nodes[0];
      return execution && ["Succeeded", "Failed"].includes(execution.status) ? execution : undefined;
    },
    90_000,
    "team-b's release on its agent",
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the agent said:\n${agent.output().slice(-3000)}`);
  });
  expect(done.status).toBe("Succeeded");
  expect(done.stages[1].actions[0].agent).toEqual({ name: "b-real" });
  expect(agent.output()).not.toMatch(/Permissions Violation/i);
  await agent.terminate();
});

it("closes a revoked agent's connection and refuses its credentials from then on", async () => {
  const revoked = await createToken("to-revoke");
  const creds = await credentials(revoked.token, "revoked-agent", "default", [SHELL]);
  const { nc } = await connectAs(creds);
  const closed = nc.closed();
  dataOf(await t.gql(`mutation ($id: ID!) { revokeAgentToken(id: $id) { revokedAt } }`, { id: revoked.id }));
  // nats-server itself drops the connection (the account JWT it was pushed revokes the key).
  await closed;
  await expect(
    connect({
      servers: nats.url,
      authenticator: jwtAuthenticator(creds.jwt, creds.key.getSeed()),
      reconnect: false,
      tls,
    }),
  ).rejects.toThrow(/Authorization Violation|revoked/i);
  // The renewal is refused too, for that key and for a new one.
  const again = await askCredentials(revoked.token, {
    publicKey: creds.key.getPublicKey(),
    name: "revoked-agent",
    pool: "default",
    providers: [SHELL],
  });
  expect(again.status).toBe(401);
  expect(
    (
      await askCredentials(revoked.token, {
        publicKey: createUser().getPublicKey(),
        name: "revoked-agent",
        pool: "default",
        providers: [SHELL],
      })
    ).status,
  ).toBe(401);
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], {
    cwd,
    stdio: "pipe",
  })
    .toString()
    .trim();
}

const EXECUTION = /* GraphQL */ `
  query ($n: String!) {
    pipeline(name: $n) {
      executions(first: 1) {
        nodes {
          id
          status
          artifacts {
            name
          }
          stages {
            actions {
              id
              name
              status
              attempt
              summary
              agent {
                name
              }
            }
          }
        }
      }
    }
  }
`;

it("runs a job end to end with a real agent on credentials, and ignores a forged complete", async () => {
  const repo = path.join(scratch, "repo");
  fs.mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  fs.writeFileSync(path.join(repo, "app.txt"), "hello from the repository\n");
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "First commit");
  const flag = path.join(scratch, "go");

  const agentToken = await createToken("secured e2e");
  const agent = startAgentProcess({
    natsUrl: nats.url,
    prefix: t.natsPrefix,
    serverUrl: base,
    token: agentToken.token,
    name: "secured-1",
    concurrency: 1,
    env: { SLUICE_SERVER_URL: base, SLUICE_NATS_INSECURE: "0", SLUICE_NATS_CA_FILE: tls.caFile },
  });
  await eventually(
    async () => {
      const { agents } = dataOf(await t.gql(`{ agents { name status } }`));
      return agents.some((x: any) => x.name === "secured-1" && x.status !== "offline");
    },
    60_000,
    "the secured agent online",
  ).catch((error: unknown) => {
    throw new Error(
      `${(error as Error).message}; the agent said:\n${agent.output().slice(-3000)}\nnats-server said:\n${nats
        .log()
        .split("\n")
        .filter((line) => !line.includes("[INF]"))
        .join("\n")
        .slice(-3000)}`,
    );
  });

  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: {
        name: "secured",
        stages: [
          {
            name: "Source",
            actions: [
              {
                name: "Checkout",
                actionTypeId: GIT,
                configuration: { Repository: `file://${repo}`, Branch: "main" },
                outputArtifacts: [{ name: "Src" }],
              },
            ],
          },
          {
            name: "Build",
            actions: [
              {
                name: "Make",
                actionTypeId: SHELL,
                inputArtifacts: [{ name: "Src" }],
                outputArtifacts: [{ name: "Out" }],
                configuration: {
                  Commands: `while [ ! -f ${flag} ]; do sleep 0.1; done\ncat app.txt\nmkdir -p out && cp app.txt out/`,
                  OutputFiles: "out/**",
                },
              },
            ],
          },
        ],
      },
    }),
  );
  const make = await eventually(
    async () => {
      const { pipeline } = dataOf(await t.gql(EXECUTION, { n: "secured" }));
      const execution = pipeline.executions.nodes[0];
      const action = execution?.stages[1].actions[0];
      return action?.status === "InProgress" && action.agent?.name === "secured-1" ? action : undefined;
    },
    60_000,
    "Make running on the secured agent",
  );

  // A rogue agent with credentials of its own completes Make on the subject it may publish to,
  // naming the agent that holds the lease. The server refuses it: the lease token is not Make's.
  const rogueToken = await createToken("rogue");
  const rogue = await credentials(rogueToken.token, "rogue", "default", [SHELL]);
  const { nc, violations } = await connectAs(rogue);
  const { agents } = dataOf(await t.gql(`{ agents { id name } }`));
  const holder = agents.find((x: any) => x.name === "secured-1").id;
  await jetstream(nc).publish(
    natsNames(t.natsPrefix).subjects.complete,
    encode("complete", {
      jobId: make.id,
      attempt: make.attempt,
      leaseToken: "A".repeat(43),
      agentId: holder,
      outcome: "Failed",
      summary: "forged",
      finishedAt: new Date().toISOString(),
    }),
    { msgID: msgIds.complete(make.id, make.attempt, "rogue") },
  );
  expect(violations).toEqual([]);

  fs.writeFileSync(flag, "");
  const done = await eventually(
    async () => {
      const { pipeline } = dataOf(await t.gql(EXECUTION, { n: "secured" }));
      const execution = pipeline.executions.nodes[0];
      return execution.status === "Succeeded" || execution.status === "Failed" ? execution : undefined;
    },
    60_000,
    "the execution ended",
  );
  expect(done.status).toBe("Succeeded");
  expect(done.stages[1].actions[0]).toMatchObject({ status: "Succeeded", attempt: make.attempt });
  expect(done.stages[1].actions[0].summary).not.toBe("forged");
  expect(done.artifacts.map((x: any) => x.name).sort()).toEqual(["Out", "Src"]);
  expect(agent.running()).toBe(true);
  expect(agent.output()).not.toMatch(/Permissions Violation/i);

  // Its token revoked, nats-server drops the agent, its credentials are refused, and it exits 3.
  dataOf(
    await t.gql(`mutation ($id: ID!) { revokeAgentToken(id: $id) { revokedAt } }`, { id: agentToken.id }),
  );
  expect((await agent.exited).code).toBe(3);
});

it("refuses a NATS that asks for no credentials unless SLUICE_NATS_INSECURE=1", async () => {
  // The shared test NATS has no authentication.
  const plain = await startTestServer({
    env: { NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222", SLUICE_NATS_INSECURE: "0" },
  });
  try {
    const problem = await eventually(
      async () => plain.server.natsProblem() ?? undefined,
      30_000,
      "the refusal",
    );
    expect(problem).toMatch(/does not require authentication.*SLUICE_NATS_INSECURE=1/);
    const ready = await fetch(`${plain.url.replace(/\/graphql$/, "")}/readyz`);
    expect(ready.status).toBe(503);
  } finally {
    await plain.stop();
  }
});

it("renews an agent's credentials before they expire, and the agent keeps its place", async () => {
  const renewing = await createToken("renewing");
  const agent = startAgentProcess({
    natsUrl: nats.url,
    prefix: t.natsPrefix,
    serverUrl: base,
    token: renewing.token,
    name: "renewing-1",
    env: { SLUICE_SERVER_URL: base, SLUICE_NATS_INSECURE: "0", SLUICE_NATS_CA_FILE: tls.caFile },
  });
  // Each exchange is an audit row: the first at start, the next after two thirds of 30 s.
  const exchanges = async () =>
    (
      await t.server.db.query(
        `SELECT count(*)::int AS n FROM audit_events
          WHERE operation = 'POST /agents/nats-credentials' AND principal = $1 AND outcome = 'ok'`,
        [`agent-token/${renewing.id}`],
      )
    )[0].n as number;
  await eventually(async () => (await exchanges()) >= 2, 60_000, "a renewal");
  // It reconnected with the new JWT and is still registered and heartbeating.
  await eventually(
    async () =>
      agent.output().includes("NATS credentials renewed") && agent.output().includes("reconnected to NATS"),
    30_000,
    "the agent reconnected with its new credentials",
  );
  const { agents } = dataOf(await t.gql(`{ agents { name status } }`));
  expect(agents.find((x: any) => x.name === "renewing-1")?.status).toBe("online");
  expect(agent.running()).toBe(true);
  await agent.terminate();
});
