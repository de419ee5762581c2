/**
 * Signed jobs (PROTOCOL.md 11.5) with nats-server in the secured configuration. NATS never checks a
 * request's reply subject against permissions: an agent that could write a job of its choosing
 * into an object store chunk could ask JetStream for it with a direct get whose reply subject is a
 * job subject, and JetStream would store the answer — the forged job, headers and all — in the
 * jobs stream. Agents have no access to the artifacts bucket any more (PROTOCOL.md 9.3), and NATS
 * refuses both steps; a forged job stored in the jobs stream all the same (by anyone who can) is
 * taken by a real agent and refused (it is not signed by the server's key), so its command never
 * runs; jobs the server signed run as usual.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { createUser } from "@nats-io/nkeys";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, jwtAuthenticator, type PermissionViolationError } from "@nats-io/transport-node";
import {
  MSG_ID_HEADER,
  PROTOCOL_VERSION,
  SIGNATURE_HEADERS,
  encode,
  generateMessageSigningKey,
  msgIds,
  natsNames,
  objectStoreStream,
  signMessage,
  type ActionTypeId,
  type NatsCredentialsReply,
} from "@sluice/protocol";
import { killAgents, startAgentProcess, type AgentProcess } from "../support/agent-process";
import { startSecuredNats, type SecuredNats } from "../support/secured-nats";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(120_000);

const SHELL: ActionTypeId = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" };
const GIT: ActionTypeId = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };

let dataDir: string;
let scratch: string;
let nats: SecuredNats;
let t: TestServer;
let base: string;
let agent: AgentProcess;

function git(cwd: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], {
    cwd,
    stdio: "pipe",
  });
}

async function createToken(description: string): Promise<string> {
  const { createAgentToken } = dataOf(
    await t.gql(`mutation ($d: String!) { createAgentToken(description: $d) { token } }`, { d: description }),
  );
  return createAgentToken.token;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-job-signing-"));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-job-signing-scratch-"));
  // Jobs of an agent running as root run as uids of their own: they read the repository and write markers here.
  fs.chmodSync(scratch, 0o777);
  nats = await startSecuredNats(dataDir);
  t = await startTestServer({
    dataDir,
    env: { NATS_URL: nats.url, SLUICE_NATS_INSECURE: "0", SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1" },
  });
  await t.server.messagingReady;
  base = t.url.replace(/\/graphql$/, "");
  agent = startAgentProcess({
    natsUrl: nats.url,
    prefix: t.natsPrefix,
    serverUrl: base,
    token: await createToken("signing e2e"),
    name: "signing-1",
    concurrency: 1,
    env: { SLUICE_SERVER_URL: base, SLUICE_NATS_INSECURE: "0" },
  });
  await eventually(
    async () => {
      const { agents } = dataOf(await t.gql(`{ agents { name status } }`));
      return agents.some((x: any) => x.name === "signing-1" && x.status === "online");
    },
    60_000,
    "the agent online",
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the agent said:\n${agent.output().slice(-3000)}`);
  });
});

afterAll(async () => {
  await killAgents();
  await t?.stop();
  await nats?.stop();
  for (const dir of [dataDir, scratch]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it("keeps the signing key encrypted in PostgreSQL and hands its public key out with the credentials", async () => {
  const rows: Array<{ key: string; envelope: string }> = await t.server.db.query(
    `SELECT public_key AS key, seed_envelope AS envelope FROM message_signing_keys`,
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]!.envelope).toMatch(/^sluice:enc:v1:/);
  const response = await fetch(`${base}/agents/nats-credentials`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await createToken("keys")}` },
    body: JSON.stringify({
      publicKey: createUser().getPublicKey(),
      name: "keys",
      pool: "default",
      providers: [SHELL],
    }),
  });
  expect(response.status).toBe(200);
  expect(((await response.json()) as NatsCredentialsReply).serverKeys).toEqual([rows[0]!.key]);
});

it("runs the jobs the server signed, and refuses a job an agent made JetStream write into the jobs stream", async () => {
  const repo = path.join(scratch, "repo");
  fs.mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  fs.writeFileSync(path.join(repo, "app.txt"), "hello\n");
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "First commit");
  const signedMarker = path.join(scratch, "signed-ran");
  const forgedMarker = path.join(scratch, "forged-ran");

  // A signed job runs as usual.
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: {
        name: "signed",
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
                configuration: { Commands: `touch ${signedMarker}` },
              },
            ],
          },
        ],
      },
    }),
  );
  await eventually(
    async () => {
      const { pipeline } = dataOf(
        await t.gql(`query { pipeline(name: "signed") { executions(first: 1) { nodes { status } } } }`),
      );
      const status = pipeline.executions.nodes[0]?.status;
      if (status === "Failed")
        throw new Error(`the signed execution failed; the agent said:\n${agent.output().slice(-3000)}`);
      return status === "Succeeded";
    },
    60_000,
    "the signed execution to succeed",
  );
  expect(fs.existsSync(signedMarker)).toBe(true);

  // A rogue agent: credentials of its own, for the same pool and provider.
  const names = natsNames(t.natsPrefix);
  const key = createUser();
  const rogueCredentials = (await (
    await fetch(`${base}/agents/nats-credentials`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await createToken("rogue")}` },
      body: JSON.stringify({
        publicKey: key.getPublicKey(),
        name: "rogue",
        pool: "default",
        providers: [SHELL],
      }),
    })
  ).json()) as NatsCredentialsReply;
  const nc = await connect({
    servers: nats.url,
    authenticator: jwtAuthenticator(rogueCredentials.jwt, key.getSeed()),
    inboxPrefix: rogueCredentials.inboxPrefix,
    reconnect: false,
    timeout: 30_000,
  }).catch((error: unknown) => {
    throw new Error(`the rogue cannot connect: ${(error as Error).message}\n${nats.log().slice(-2000)}`);
  });
  const violations: PermissionViolationError[] = [];
  void (async () => {
    for await (const status of nc.status())
      if (status.type === "error" && (status.error as Error).name === "PermissionViolationError")
        violations.push(status.error as PermissionViolationError);
  })();
  // The stream seen with the server's own NATS user (the test reads, it publishes nothing).
  const server = await nats.identity.serverCredentials();
  const serverNc = await connect({
    servers: nats.url,
    authenticator: jwtAuthenticator(server.jwt, server.seed),
    timeout: 30_000,
  }).catch((error: unknown) => {
    throw new Error(`cannot connect as the server: ${(error as Error).message}\n${nats.log().slice(-2000)}`);
  });
  try {
    // The forged job: valid by the protocol, its command would leave a marker. Signed, even — by
    // the rogue's own key, with every header a real job has.
    const jobSubject = names.subjects.job("default", SHELL);
    const executionId = randomUUID();
    const jobId = randomUUID();
    const forged = encode(
      "job",
      {
        protocolVersion: PROTOCOL_VERSION,
        jobId,
        attempt: 1,
        executionId,
        pipelineName: "signed",
        stageName: "Build",
        actionName: "Make",
        actionTypeId: SHELL,
        configuration: { Commands: `touch ${forgedMarker}` },
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
      jobSubject,
    );
    const msgId = msgIds.job(jobId, 1);
    const h = headers();
    h.set(MSG_ID_HEADER, msgId);
    const rogueKey = generateMessageSigningKey();
    for (const [name, value] of Object.entries(
      signMessage(rogueKey, { subject: jobSubject, msgId, body: forged }, 3_600_000),
    ))
      h.set(name, value);

    // 1. How an agent could once have JetStream write it into the jobs stream: the job as an
    //    object store chunk, then a direct get of it whose reply subject is the job subject.
    //    Agents have no access to the artifacts bucket (PROTOCOL.md 9.3): NATS refuses both.
    const objects = objectStoreStream(names.artifactsBucket);
    const chunk = `$O.${names.artifactsBucket}.C.${randomUUID().replaceAll("-", "")}`;
    nc.publish(chunk, forged, { headers: h });
    nc.publish(
      `$JS.API.DIRECT.GET.${objects}`,
      new TextEncoder().encode(JSON.stringify({ last_by_subj: chunk })),
      { reply: jobSubject },
    );
    for (const subject of [chunk, `$JS.API.DIRECT.GET.${objects}`])
      await eventually(
        async () => violations.some((v) => v.operation === "publish" && v.subject === subject),
        10_000,
        `NATS refusing the rogue's publish to ${subject}`,
      );
    // 2. Stored in the jobs stream all the same, as by anyone who can publish there: the agent
    //    takes it and must still refuse it.
    const jobsBefore = (await (await jetstreamManager(serverNc)).streams.info(names.streams.jobs)).state;
    serverNc.publish(jobSubject, forged, { headers: h });
    await serverNc.flush();

    // JetStream wrote it into the jobs stream; the agent took it and refused it (+TERM, a warning).
    const refusal = await eventually(
      async () =>
        agent
          .output()
          .split("\n")
          .filter((line) => line.includes("refusing a job the server did not sign"))
          .map((line) => JSON.parse(line) as { subject: string; reason: string })
          .find((entry) => entry.subject === jobSubject),
      30_000,
      "the agent refusing the forged job",
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; the agent said:\n${agent.output().slice(-3000)}`);
    });
    expect(refusal.reason).toBe("UnknownKey");
    const jobsAfter = (await (await jetstreamManager(serverNc)).streams.info(names.streams.jobs)).state;
    expect(jobsAfter.last_seq).toBeGreaterThan(jobsBefore.last_seq);
    // Refused, not run: no marker, no workspace of it, nothing reported for it.
    expect(fs.existsSync(forgedMarker)).toBe(false);
    const { pipeline } = dataOf(
      await t.gql(`query { pipeline(name: "signed") { executions(first: 5) { nodes { id } } } }`),
    );
    expect(pipeline.executions.nodes).toHaveLength(1);
    // The +TERM removed it: the work queue holds nothing.
    await eventually(
      async () =>
        (await (await jetstreamManager(serverNc)).streams.info(names.streams.jobs)).state.messages === 0,
      10_000,
      "the forged job gone from the work queue",
    );
    expect(h.get(SIGNATURE_HEADERS.key)).toBe(rogueKey.publicKey);
  } finally {
    await nc.close();
    await serverNc.close();
  }
  expect(agent.running()).toBe(true);
});

it("ignores a cancel an agent made JetStream send onto another agent's cancel subject: the job runs on", async () => {
  const names = natsNames(t.natsPrefix);
  const flag = path.join(scratch, "go");
  const finished = path.join(scratch, "finished");
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: {
        name: "long",
        stages: [
          {
            name: "Source",
            actions: [
              {
                name: "Checkout",
                actionTypeId: GIT,
                configuration: { Repository: `file://${path.join(scratch, "repo")}`, Branch: "main" },
                outputArtifacts: [{ name: "Src" }],
              },
            ],
          },
          {
            name: "Build",
            actions: [
              {
                name: "Wait",
                actionTypeId: SHELL,
                inputArtifacts: [{ name: "Src" }],
                configuration: { Commands: `while [ ! -f ${flag} ]; do sleep 0.1; done\ntouch ${finished}` },
              },
            ],
          },
        ],
      },
    }),
  );
  const EXECUTION = `query { pipeline(name: "long") { executions(first: 1) { nodes { status stages { actions { id attempt status summary } } } } } }`;
  const wait = await eventually(
    async () => {
      const { pipeline } = dataOf(await t.gql(EXECUTION));
      const action = pipeline.executions.nodes[0]?.stages[1].actions[0];
      return action?.status === "InProgress" ? action : undefined;
    },
    60_000,
    "Wait running",
  );
  const { agents } = dataOf(await t.gql(`{ agents { id name } }`));
  const agentId: string = agents.find((x: any) => x.name === "signing-1").id;

  const key = createUser();
  const rogue = (await (
    await fetch(`${base}/agents/nats-credentials`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await createToken("rogue-2")}`,
      },
      body: JSON.stringify({
        publicKey: key.getPublicKey(),
        name: "rogue-2",
        pool: "default",
        providers: [SHELL],
      }),
    })
  ).json()) as NatsCredentialsReply;
  const nc = await connect({
    servers: nats.url,
    authenticator: jwtAuthenticator(rogue.jwt, key.getSeed()),
    inboxPrefix: rogue.inboxPrefix,
    reconnect: false,
    timeout: 30_000,
  });
  try {
    const cancel = encode("cancel", { jobId: wait.id, attempt: wait.attempt, reason: "Forged" });
    const ignored = (subject: string) =>
      eventually(
        async () =>
          agent
            .output()
            .split("\n")
            .some(
              (line) =>
                line.includes("ignoring a cancel the server did not sign") &&
                line.includes(`"subject":"${subject}"`),
            ),
        30_000,
        `the agent ignoring the forged cancel on ${subject}`,
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; the agent said:\n${agent.output().slice(-4000)}`);
      });
    // The core path (the durable one is covered by agent/test/signing.test.ts: there, JetStream's
    // answer lands with its own headers, which a direct get then reports as no message at all).
    const target = names.subjects.agentCancel(agentId);
    const h = headers();
    h.set(MSG_ID_HEADER, `${msgIds.cancel(wait.id, wait.attempt)}:${agentId}`);
    // The way through the artifacts bucket (a chunk, then a direct get replying to the cancel
    // subject) is closed to agents: NATS refuses it.
    const violations: PermissionViolationError[] = [];
    void (async () => {
      for await (const status of nc.status())
        if (status.type === "error" && (status.error as Error).name === "PermissionViolationError")
          violations.push(status.error as PermissionViolationError);
    })();
    const chunk = `$O.${names.artifactsBucket}.C.${randomUUID().replaceAll("-", "")}`;
    nc.publish(chunk, cancel, { headers: h });
    await eventually(
      async () => violations.some((v) => v.operation === "publish" && v.subject === chunk),
      10_000,
      "NATS refusing the rogue's chunk",
    );
    // Sent all the same, by a connection that may publish there (the server's user): ignored.
    const server = await nats.identity.serverCredentials();
    const serverNc = await connect({
      servers: nats.url,
      authenticator: jwtAuthenticator(server.jwt, server.seed),
      timeout: 30_000,
    });
    serverNc.publish(target, cancel, { headers: h });
    await serverNc.flush();
    await serverNc.close();
    await ignored(target);
  } finally {
    await nc.close();
  }

  fs.writeFileSync(flag, "");
  const done = await eventually(
    async () => {
      const { pipeline } = dataOf(await t.gql(EXECUTION));
      const execution = pipeline.executions.nodes[0];
      return execution.status === "Succeeded" || execution.status === "Failed" ? execution : undefined;
    },
    60_000,
    "the execution ended",
  );
  expect(done.status).toBe("Succeeded");
  expect(done.stages[1].actions[0].summary ?? "").not.toMatch(/Cancelled/);
  expect(fs.existsSync(finished)).toBe(true);
});
