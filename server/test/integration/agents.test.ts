/**
 * The server's side of agents over real NATS and PostgreSQL: tokens, registration and its
 * refusals, agent heartbeats and their replies, the agents query and agentEvents, leases that run
 * out (agent lost, retried elsewhere), duplicates, and revocation. The agent here is the protocol
 * spoken by hand, so each rule is checked on the wire.
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  PROTOCOL_VERSION,
  decode,
  encode,
  natsNames,
  type CancelMessage,
  type RegisterReply,
} from "@sluice/protocol";
import { CREATE, shellBuild, sourceThen } from "../support/documents";
import { connectNats } from "../support/nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually, untilSubscribed } from "../support/wait";
import { SHELL, GIT, TestWorker } from "../support/worker";

let t: TestServer;
let nc: NatsConnection;
beforeAll(async () => {
  // One-second heartbeats and a lease of three (the default is six intervals): the lost-agent tests wait for it.
  t = await startTestServer({ env: { SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1", SLUICE_LEASE_SECONDS: "3" } });
  nc = await connectNats();
});
afterAll(async () => {
  await nc.close();
  await t.stop();
});

const names = () => natsNames(t.natsPrefix);

async function createToken(description = "build hosts"): Promise<{ id: string; token: string }> {
  const { createAgentToken } = dataOf(
    await t.gql(`mutation ($d: String!) { createAgentToken(description: $d) { id token } }`, {
      d: description,
    }),
  );
  return createAgentToken;
}

function registration(token: string, extra: Record<string, unknown> = {}) {
  return {
    protocolVersion: PROTOCOL_VERSION,
    token,
    name: "build-1",
    pool: "default",
    labels: { os: "linux" },
    providers: [SHELL("Build"), GIT],
    version: "9.9.9",
    capacity: 2,
    ...extra,
  };
}

async function register(request: unknown): Promise<RegisterReply> {
  const reply = await nc.request(names().subjects.register, JSON.stringify(request), { timeout: 5000 });
  const decoded = decode("registerReply", reply.data);
  if (!decoded.ok) throw decoded.error;
  return decoded.message;
}

async function heartbeat(agentId: string, extra: Record<string, unknown> = {}) {
  const reply = await nc.request(
    names().subjects.agentHeartbeat,
    encode("agentHeartbeat", { agentId, at: new Date().toISOString(), running: [], ...extra }),
    { timeout: 5000 },
  );
  return reply.json<{ ok: boolean; code?: string }>();
}

describe("tokens and registration", () => {
  it("registers an agent with a token and keeps its id when it registers again", async () => {
    const { token } = await createToken();
    expect(token).toMatch(/^sat_[A-Za-z0-9_-]{43}$/);
    const first = await register(registration(token));
    expect(first).toMatchObject({ ok: true, protocolVersion: PROTOCOL_VERSION, heartbeatIntervalSeconds: 1 });
    const again = await register(registration(token, { capacity: 4 }));
    expect(again.ok && first.ok && again.agentId === first.agentId).toBe(true);

    const { agents } = dataOf(
      await t.gql(`{ agents { id name pool labels providers { category provider } version status capacity
                   runningJobs revoked } }`),
    );
    expect(agents).toContainEqual({
      id: first.ok ? first.agentId : "",
      name: "build-1",
      pool: "default",
      labels: { os: "linux" },
      providers: [
        { category: "Build", provider: "Shell" },
        { category: "Source", provider: "Git" },
      ],
      version: "9.9.9",
      status: "online",
      capacity: 4,
      runningJobs: 0,
      revoked: false,
    });
  });

  it("creates the job consumers of the pool and providers before it answers", async () => {
    const { token } = await createToken();
    await register(registration(token, { name: "pool-agent", pool: "eu-west" }));
    const { jetstreamManager } = await import("@nats-io/jetstream");
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(
      names().streams.jobs,
      names().consumers.job("eu-west", SHELL("Build")),
    );
    expect(info.config.filter_subject).toBe(names().subjects.job("eu-west", SHELL("Build")));
  });

  it.each([
    ["an unknown token", { token: "sat_not-a-token-at-all" }, "Unauthenticated"],
    ["a newer protocol", { protocolVersion: PROTOCOL_VERSION + 1 }, "IncompatibleProtocol"],
    ["no providers", { providers: [] }, "InvalidRequest"],
  ])("refuses %s with a clear code", async (_what, change, code) => {
    const { token } = await createToken();
    const reply = await register({ ...registration(token), ...change });
    expect(reply).toMatchObject({ ok: false, code });
    if (!reply.ok) expect(reply.error.length).toBeGreaterThan(10);
  });

  it("refuses a description that is empty, with its path", async () => {
    const response = await t.gql(`mutation { createAgentToken(description: "  ") { id token } }`);
    expect(response.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      validationErrors: [{ path: "description" }],
    });
  });

  it("never lists the secret, only the token's metadata", async () => {
    const { id, token } = await createToken("listed");
    const { agentTokens } = dataOf(await t.gql(`{ agentTokens { id description createdBy revokedAt } }`));
    expect(agentTokens).toContainEqual({
      id,
      description: "listed",
      createdBy: "user/admin",
      revokedAt: null,
    });
    expect(JSON.stringify(agentTokens)).not.toContain(token);
  });
});

describe("agent heartbeats and agentEvents", () => {
  it("shows online, busy, draining and offline as they happen, live", async () => {
    const { token } = await createToken();
    const client = createClient({
      url: t.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const seen: string[] = [];
    const unsubscribe = client.subscribe(
      { query: `subscription { agentEvents(pool: "live") { status agent { name runningJobs } } }` },
      {
        next: (value: any) => {
          const e = value.data.agentEvents;
          seen.push(`${e.agent.name}:${e.status}:${e.agent.runningJobs}`);
        },
        error: () => {},
        complete: () => {},
      },
    );
    // Agents of the pool come online until the subscription reports one: then it listens.
    let probes = 0;
    await untilSubscribed(
      async () => {
        const probe = await register(
          registration((await createToken("probe")).token, { name: `probe-${++probes}`, pool: "live" }),
        );
        if (!probe.ok) throw new Error(probe.error);
      },
      () => seen.some((s) => s.startsWith("probe-")),
    );
    const reply = await register(registration(token, { name: "watched", pool: "live" }));
    if (!reply.ok) throw new Error(reply.error);
    await eventually(async () => seen.includes("watched:online:0"), 5000, "online");
    expect(await heartbeat(reply.agentId, { running: [{ jobId: "job-1", attempt: 1 }] })).toEqual({
      ok: true,
    });
    await eventually(async () => seen.includes("watched:busy:1"), 5000, "busy");
    await heartbeat(reply.agentId, { running: [{ jobId: "job-1", attempt: 1 }], draining: true });
    await eventually(async () => seen.includes("watched:draining:1"), 5000, "draining");
    await heartbeat(reply.agentId, { leaving: true, draining: true });
    await eventually(async () => seen.includes("watched:offline:0"), 5000, "offline");
    unsubscribe();
    await client.dispose();
  });

  it("shows a silent agent offline after three intervals", async () => {
    const { token } = await createToken();
    const reply = await register(registration(token, { name: "silent" }));
    if (!reply.ok) throw new Error(reply.error);
    await eventually(
      async () => {
        const { agents } = dataOf(await t.gql(`{ agents(status: offline) { id } }`));
        return agents.some((a: { id: string }) => a.id === reply.agentId);
      },
      10_000,
      "offline",
    );
  });

  it("answers UnknownAgent to an id it does not know", async () => {
    expect(await heartbeat("00000000-0000-4000-8000-000000000000")).toMatchObject({
      ok: false,
      code: "UnknownAgent",
    });
  });
});

describe("why a queued action does not start", () => {
  it("says NO_AGENT while no agent of its pool runs its type, QUEUED once one does", async () => {
    const worker = await TestWorker.start(
      t.natsPrefix,
      [GIT],
      () => ({ outcome: "Succeeded" }),
      "source-only",
    );
    try {
      dataOf(
        await t.gql(CREATE, {
          input: sourceThen("pooled", {
            name: "Build",
            actions: [shellBuild("Make", "make", { region: "gpu" })],
          }),
        }),
      );
      const reason = async () => {
        const { pipeline } = dataOf(
          await t.gql(`{ pipeline(name: "pooled") { executions(first: 1) { nodes {
             stages { actions { status waitingReason { code message } } } } } } }`),
        );
        return pipeline.executions.nodes[0].stages[1].actions[0];
      };
      const waiting = await eventually(async () => {
        const make = await reason();
        return make.status === "Queued" ? make : false;
      });
      expect(waiting.waitingReason).toEqual({
        code: "NO_AGENT",
        message:
          'No online agent of pool "gpu" runs Build/Sluice/Shell@1: start one with --pool gpu --providers Build/Sluice/Shell@1.',
      });
      const { token } = await createToken();
      await register(registration(token, { name: "gpu-1", pool: "gpu", capacity: 1 }));
      expect((await reason()).waitingReason.code).toBe("QUEUED");
    } finally {
      await worker.stop();
    }
  });
});

describe("leases, retries, duplicates and revocation", () => {
  async function pipelineWithBuild(name: string) {
    dataOf(
      await t.gql(CREATE, {
        input: sourceThen(name, { name: "Build", actions: [shellBuild("Make", `make ${name}`)] }),
      }),
    );
  }

  async function makeAction(pipeline: string) {
    const { pipeline: p } = dataOf(
      await t.gql(
        `query ($n: String!) { pipeline(name: $n) { executions(first: 1) { nodes { id status statusSummary
           stages { name actions { name status attempt summary failureType
             attempts { id attempt status summary failureType failureCause agent { id name } } } } } } } }`,
        { n: pipeline },
      ),
    );
    const execution = p.executions.nodes[0];
    return { execution, make: execution.stages[1].actions[0] };
  }

  it("fails an attempt whose agent stops heartbeating as agent lost, and retries it on another agent", async () => {
    const name = "lease-run";
    // The first worker takes the build and then goes silent; the second one finishes the retry.
    const silent = await TestWorker.start(
      t.natsPrefix,
      [GIT, SHELL("Build")],
      (job) =>
        job.actionTypeId.category === "Source" || job.configuration.Commands !== `make ${name}`
          ? { outcome: "Succeeded" }
          : "hold",
      "silent-worker",
    );
    await pipelineWithBuild(name);
    await silent.waitFor((jobs) => jobs.some((j) => j.configuration.Commands === `make ${name}`));
    await silent.stop();
    const healthy = await TestWorker.start(
      t.natsPrefix,
      [SHELL("Build")],
      () => ({ outcome: "Succeeded" }),
      "healthy-worker",
    );
    try {
      const done = await eventually(
        async () => {
          const { execution, make } = await makeAction(name);
          return execution.status === "Succeeded" ? make : false;
        },
        20_000,
        "the retry to succeed",
      );
      expect(done.attempt).toBe(2);
      expect(done.attempts[0]).toMatchObject({
        status: "Failed",
        summary: "Agent silent-worker lost: no heartbeat for 3 s.",
        failureType: "SystemUnavailable",
        failureCause: "AGENT_LOST",
        agent: { name: "silent-worker" },
      });
      expect(done.attempts[1]).toMatchObject({ status: "Succeeded", agent: { name: "healthy-worker" } });
    } finally {
      await healthy.stop();
    }
  }, 40_000);

  it("tells a second agent that accepts a running attempt that it is a duplicate", async () => {
    const name = "duplicate-run";
    const first = await TestWorker.start(
      t.natsPrefix,
      [GIT, SHELL("Build")],
      (job) => (job.actionTypeId.category === "Source" ? { outcome: "Succeeded" } : "hold"),
      "first-worker",
    );
    await pipelineWithBuild(name);
    await first.waitFor((jobs) => jobs.some((j) => j.configuration.Commands === `make ${name}`));
    const job = first.jobs.find((j) => j.configuration.Commands === `make ${name}`)!;
    await eventually(async () => (await makeAction(name)).make.status === "InProgress", 5000, "started");

    const cancels: CancelMessage[] = [];
    const sub = nc.subscribe(names().subjects.agentCancel("second-agent"), {
      callback: (_e, msg) => {
        cancels.push(msg.json<CancelMessage>());
      },
    });
    const { jetstream } = await import("@nats-io/jetstream");
    await jetstream(nc).publish(
      names().subjects.accept,
      encode("accept", {
        protocolVersion: PROTOCOL_VERSION,
        jobId: job.jobId,
        attempt: job.attempt,
        leaseToken: job.leaseToken, // it took a duplicate of the job
        agent: { id: "second-agent", name: "second", version: "1" },
        startedAt: new Date().toISOString(),
      }),
    );
    await eventually(async () => cancels.length > 0, 5000, "the Duplicate cancel");
    expect(cancels[0]).toEqual({ jobId: job.jobId, attempt: job.attempt, reason: "Duplicate" });
    expect((await makeAction(name)).make.attempts[0].agent.name).toBe("first-worker");
    sub.unsubscribe();
    await first.finish(job, { outcome: "Succeeded" });
    await first.stop();
  });

  it("fails the attempt an agent accepts after its token was revoked, and tells that agent", async () => {
    const name = "accepted-late";
    const { id, token } = await createToken("revoked before accepting");
    const reply = await register(registration(token, { name: "late" }));
    if (!reply.ok) throw new Error(reply.error);
    dataOf(await t.gql(`mutation ($id: ID!) { revokeAgentToken(id: $id) { id } }`, { id }));
    const cancels: CancelMessage[] = [];
    const sub = nc.subscribe(names().subjects.agentCancel(reply.agentId), {
      callback: (_e, msg) => {
        cancels.push(msg.json<CancelMessage>());
      },
    });
    // NATS does not know Sluice's tokens: the revoked agent still reads a job and accepts it.
    const worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], () => "hold", reply.agentId);
    try {
      await pipelineWithBuild(name);
      const checkout = await eventually(
        async () => {
          const { execution } = await makeAction(name);
          const attempt = execution.stages[0].actions[0].attempts[0];
          return attempt?.status === "Failed" ? attempt : undefined;
        },
        10_000,
        "the accepted attempt to fail",
      );
      expect(checkout).toMatchObject({
        failureCause: "AGENT_LOST",
        summary: "Agent late took the job after its token was revoked.",
      });
      await eventually(async () => cancels.length > 0, 5000, "the Revoked cancel");
      expect(cancels[0]).toMatchObject({ reason: "Revoked" });
    } finally {
      sub.unsubscribe();
      await worker.stop();
    }
  });

  it("revoking a token refuses its agents and fails the jobs they run at once", async () => {
    const name = "revoked-run";
    const { id, token } = await createToken("to revoke");
    const reply = await register(registration(token, { name: "doomed" }));
    if (!reply.ok) throw new Error(reply.error);
    const worker = await TestWorker.start(
      t.natsPrefix,
      [GIT, SHELL("Build")],
      (job) => (job.actionTypeId.category === "Source" ? { outcome: "Succeeded" } : "hold"),
      reply.agentId,
    );
    await pipelineWithBuild(name);
    await worker.waitFor((jobs) => jobs.some((j) => j.configuration.Commands === `make ${name}`));
    await eventually(async () => (await makeAction(name)).make.status === "InProgress", 5000, "started");
    // Keep the lease alive with job heartbeats, so only the revocation can end it.
    const job = worker.jobs.find((j) => j.configuration.Commands === `make ${name}`)!;
    const { jetstream } = await import("@nats-io/jetstream");
    const beats = setInterval(() => {
      void jetstream(nc).publish(
        names().subjects.heartbeat,
        encode("heartbeat", {
          jobId: job.jobId,
          attempt: job.attempt,
          leaseToken: job.leaseToken,
          agentId: reply.agentId,
          at: new Date().toISOString(),
        }),
      );
    }, 300);
    try {
      const { revokeAgentToken } = dataOf(
        await t.gql(`mutation ($id: ID!) { revokeAgentToken(id: $id) { id revokedAt revokedBy } }`, { id }),
      );
      expect(revokeAgentToken).toMatchObject({ id, revokedBy: "user/admin" });
      expect(await heartbeat(reply.agentId)).toMatchObject({ ok: false, code: "Unauthenticated" });
      expect(await register(registration(token, { name: "doomed" }))).toMatchObject({
        ok: false,
        code: "Unauthenticated",
      });
      const first = await eventually(
        async () => {
          const { make } = await makeAction(name);
          return make.attempts[0].status === "Failed" ? make.attempts[0] : false;
        },
        3000,
        "the attempt to fail",
      );
      expect(first).toMatchObject({
        failureCause: "AGENT_LOST",
        summary: "The token of agent doomed was revoked; the attempt was stopped.",
      });
      const { agents } = dataOf(await t.gql(`{ agents { id status revoked } }`));
      expect(agents).toContainEqual({ id: reply.agentId, status: "offline", revoked: true });
    } finally {
      clearInterval(beats);
      await worker.stop();
    }
  });
});
