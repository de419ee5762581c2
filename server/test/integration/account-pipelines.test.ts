/**
 * Pipelines and agents in accounts (issue #10) on a real server, PostgreSQL and NATS: the default
 * account and team-b each have a pipeline named `web`; each account's principals list, read,
 * release, approve and tag their own only, and another account's execution or approval named by its
 * id is NOT_FOUND, exactly like an unknown one. Jobs go to their pipeline's account's pool: a worker
 * of one account never receives another's, and a real agent registered with a team-b token runs
 * team-b's job (with team-b's secret of a name both accounts use) while the default account's job
 * of the same pipeline name waits for a default agent. A user of the default account who assumes team-b's access role operates team-b's pipeline.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { jobConsumerConfig, natsNames } from "@sluice/protocol";
import { killAgents, startAgentProcess } from "../support/agent-process";
import { CREATE, gitRepository, manualApproval, shellBuild, sourceThen } from "../support/documents";
import { connectNats, NATS_URL } from "../support/nats";
import { sample } from "../support/prometheus";
import { selfSignedCertificate, startHttpsReceiver } from "../support/receivers";
import {
  ADMIN_TOKEN,
  dataOf,
  startTestServer,
  type GraphQLResponse,
  type TestServer,
} from "../support/server";
import { eventually } from "../support/wait";
import { GIT, TestWorker } from "../support/worker";

jest.setTimeout(180_000);

let t: TestServer;
let scratch: string;
let repo: string;
let workerA: TestWorker; // the default account's pool
let workerB: TestWorker; // team-b's pool of the same name
let bob: string; // team-b's user bob, Admin in team-b
let bAdmin: string; // the installation's admin in team-b, through its AccountAccessRole
let cert: ReturnType<typeof selfSignedCertificate>;
let receiver: Awaited<ReturnType<typeof startHttpsReceiver>>;

const as = (token: string) => ({ token });
const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code;
const ok = { outcome: "Succeeded" as const, outputVariables: { CommitId: "abc123" } };

beforeAll(async () => {
  cert = selfSignedCertificate();
  receiver = await startHttpsReceiver(cert);
  t = await startTestServer({
    env: { SLUICE_NOTIFY_CA_FILE: cert.certFile, SLUICE_NOTIFY_ALLOW_PRIVATE: "true" },
  });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-account-pipelines-"));
  // The agent's jobs may run as users of their own: they read the repository.
  fs.chmodSync(scratch, 0o755);
  repo = gitRepository(path.join(scratch, "repo"), "team b's app\n");
  workerA = await TestWorker.start(t.natsPrefix, [GIT], () => ok, "worker-default");
  workerB = await TestWorker.start(t.natsPrefix, [GIT], () => ok, "worker-team-b", undefined, "team-b");

  dataOf(await t.gql(`mutation { createAccount(id: "team-b") { id } }`));
  bAdmin = dataOf(
    await t.gql(
      `mutation { assumeRole(role: "srn:sluice:team-b:role/AccountAccessRole", sessionName: "setup") { secret } }`,
    ),
  ).assumeRole.secret;
  dataOf(await t.gql(`mutation { createUser(name: "bob") { name } }`, {}, as(bAdmin)));
  dataOf(
    await t.gql(`mutation { attachPolicy(policyName: "Admin", principal: "user/bob") }`, {}, as(bAdmin)),
  );
  bob = dataOf(
    await t.gql(
      `mutation { createApiToken(principal: "user/bob", description: "bob") { secret } }`,
      {},
      as(bAdmin),
    ),
  ).createApiToken.secret;
});

afterAll(async () => {
  await killAgents();
  await workerA?.stop();
  await workerB?.stop();
  await t?.stop();
  await receiver?.close();
  cert?.cleanup();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const approval = (name: string) => sourceThen(name, { name: "Prod", actions: [manualApproval("Approve")] });

const LATEST = /* GraphQL */ `
  query ($n: String!) {
    pipeline(name: $n) {
      account
      srn
      executions(first: 1) {
        nodes {
          id
          status
          stages {
            actions {
              id
              name
              status
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

const EXECUTIONS = LATEST.replace("executions(first: 1)", "executions(first: 20)");

interface Action {
  id: string;
  name: string;
  status: string;
  agent: { name: string } | null;
}
interface Execution {
  id: string;
  status: string;
  stages: Array<{ actions: Action[] }>;
}

async function latest(name: string, token: string): Promise<Execution | undefined> {
  return dataOf(await t.gql(LATEST, { n: name }, as(token))).pipeline?.executions.nodes[0];
}

/** The latest execution of `name` once its action `action` is in `status`. */
async function whenAction(name: string, token: string, action: string, status: string): Promise<Execution> {
  return eventually(
    async () => {
      const execution = await latest(name, token);
      const found = execution?.stages.flatMap((s) => s.actions).find((a) => a.name === action);
      return found?.status === status ? execution : undefined;
    },
    60_000,
    `${action} of ${name} ${status}`,
  );
}

const actionOf = (execution: Execution, name: string) =>
  execution.stages.flatMap((s) => s.actions).find((a) => a.name === name)!;

const APPROVE = `mutation ($id: ID!) { putApprovalResult(actionExecutionId: $id, approved: true) { status } }`;

describe("two accounts, one pipeline name", () => {
  let aExecution: Execution;
  let bExecution: Execution;

  it("each account creates its own `web`; lists, reads and SRNs are the account's", async () => {
    dataOf(await t.gql(CREATE, { input: approval("web") }));
    // The same name in team-b: names are unique per account, not per installation.
    dataOf(await t.gql(CREATE, { input: approval("web") }, as(bob)));
    expect(codeOf(await t.gql(CREATE, { input: approval("web") }, as(bob)))).toBe("CONFLICT");

    const LIST = `{ pipelines { totalCount nodes { name account srn } } }`;
    expect(dataOf(await t.gql(LIST)).pipelines).toEqual({
      totalCount: 1,
      nodes: [{ name: "web", account: "default", srn: "srn:sluice:default:pipeline/web" }],
    });
    expect(dataOf(await t.gql(LIST, {}, as(bob))).pipelines).toEqual({
      totalCount: 1,
      nodes: [{ name: "web", account: "team-b", srn: "srn:sluice:team-b:pipeline/web" }],
    });

    // The action type catalogue is the installation's: read from every account, custom types made
    // and deleted in the default account only.
    const TYPES = `{ listActionTypes(first: 100) { totalCount } }`;
    const types = dataOf(await t.gql(TYPES)).listActionTypes.totalCount;
    expect(types).toBeGreaterThan(0);
    expect(dataOf(await t.gql(TYPES, {}, as(bob))).listActionTypes.totalCount).toBe(types);
    const custom = `mutation { createCustomActionType(input: { category: "Build", provider: "Tenant", version: "1",
      inputArtifactDetails: { minimumCount: 0, maximumCount: 1 }, outputArtifactDetails: { minimumCount: 0, maximumCount: 1 } }) { id { provider } } }`;
    const refused = await t.gql(custom, {}, as(bob));
    expect(codeOf(refused)).toBe("FORBIDDEN");
    expect(refused.errors?.[0]?.message).toBe(
      "You are not allowed sluice:CreateCustomActionType on srn:sluice:default:action-type/Build/Custom/Tenant/1.",
    );

    // Each first execution's Checkout ran on its own account's worker, and reached the approval.
    aExecution = await whenAction("web", ADMIN_TOKEN, "Approve", "InProgress");
    bExecution = await whenAction("web", bob, "Approve", "InProgress");
    expect(aExecution.id).not.toBe(bExecution.id);
    expect(workerA.jobs.map((j) => j.executionId)).toEqual([aExecution.id]);
    expect(workerB.jobs.map((j) => j.executionId)).toEqual([bExecution.id]);
  });

  it("another account's execution or approval, named by its id, is NOT_FOUND like an unknown one", async () => {
    const aApproval = actionOf(aExecution, "Approve").id;
    const bApproval = actionOf(bExecution, "Approve").id;
    const unknown = "00000000-0000-4000-8000-000000000000";

    // Reads: null, as for an unknown id.
    const READ = `query ($id: ID!) { pipelineExecution(id: $id) { id } }`;
    expect(dataOf(await t.gql(READ, { id: aExecution.id }, as(bob))).pipelineExecution).toBeNull();
    expect(dataOf(await t.gql(READ, { id: bExecution.id }, as(bob))).pipelineExecution).toEqual({
      id: bExecution.id,
    });
    expect(dataOf(await t.gql(READ, { id: bExecution.id })).pipelineExecution).toBeNull();

    // Changes: NOT_FOUND with the unknown id's message.
    const refused = await t.gql(APPROVE, { id: aApproval }, as(bob));
    expect(codeOf(refused)).toBe("NOT_FOUND");
    expect(refused.errors?.[0]?.message).toBe(
      (await t.gql(APPROVE, { id: unknown }, as(bob))).errors?.[0]?.message.replace(unknown, aApproval),
    );
    const STOP = `mutation ($id: ID!) { stopExecution(executionId: $id, abandon: true) { id } }`;
    expect(codeOf(await t.gql(STOP, { id: aExecution.id }, as(bob)))).toBe("NOT_FOUND");
    expect(codeOf(await t.gql(APPROVE, { id: bApproval }))).toBe("NOT_FOUND");
    const LOG = `query ($id: ID!) { actionLog(actionExecutionId: $id) { complete } }`;
    expect(codeOf(await t.gql(LOG, { id: aApproval }, as(bob)))).toBe("NOT_FOUND");

    // Global ids: the other account's execution is no node for this caller.
    const NODE = `query ($n: String!) { pipeline(name: $n) { executions(first: 1) { nodes { nodeId } } } }`;
    const aNode = dataOf(await t.gql(NODE, { n: "web" })).pipeline.executions.nodes[0].nodeId;
    expect(
      dataOf(await t.gql(`query ($id: ID!) { node(id: $id) { nodeId } }`, { id: aNode }, as(bob))).node,
    ).toBeNull();

    // Tags: the other account's pipeline by its SRN is refused; the own one, by SRN or name, works.
    const TAG = `mutation ($r: String!) { tagResource(resourceArn: $r, tags: [{ key: "team", value: "b" }]) { resourceArn } }`;
    expect(codeOf(await t.gql(TAG, { r: "srn:sluice:default:pipeline/web" }, as(bob)))).toBe("FORBIDDEN");
    expect(dataOf(await t.gql(TAG, { r: "pipeline/web" }, as(bob))).tagResource.resourceArn).toBe(
      "srn:sluice:team-b:pipeline/web",
    );
    expect(dataOf(await t.gql(`{ pipeline(name: "web") { tags { key } } }`)).pipeline.tags).toEqual([]);

    // Nothing of the other account moved: the default account's approval still waits.
    expect(actionOf((await latest("web", ADMIN_TOKEN))!, "Approve").status).toBe("InProgress");

    // bob approves his own.
    dataOf(await t.gql(APPROVE, { id: bApproval }, as(bob)));
    const done = await eventually(
      async () => {
        const execution = await latest("web", bob);
        return execution?.status === "Succeeded" ? execution : undefined;
      },
      30_000,
      "team-b's web to succeed",
    );
    expect(done.id).toBe(bExecution.id);
    expect(actionOf((await latest("web", ADMIN_TOKEN))!, "Approve").status).toBe("InProgress");
  });

  it("pipelineEvents of every pipeline show the caller's account's only", async () => {
    const client = createClient({
      url: t.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${bob}` },
      retryAttempts: 0,
    });
    const seen: Array<{ pipelineName: string; executionId: string | null; type: string }> = [];
    let release: () => void = () => {};
    const subscribed = new Promise<void>((resolve) => (release = resolve));
    const dispose = client.subscribe(
      { query: `subscription { pipelineEvents { pipelineName executionId type } }` },
      {
        next: (value) => {
          const event = (value.data as any)?.pipelineEvents;
          if (event) seen.push(event);
        },
        error: () => {},
        complete: () => {},
      },
    );
    client.on("connected", () => release());
    await subscribed;
    const RELEASE = `mutation { releaseChange(pipelineName: "web") { id } }`;
    // The subscription is registered once an event of bob's own pipeline arrives.
    await eventually(
      async () => {
        const id = dataOf(await t.gql(RELEASE, {}, as(bob))).releaseChange.id;
        await eventually(async () => seen.some((e) => e.executionId === id), 5_000, "its event").catch(
          () => undefined,
        );
        return seen.length > 0;
      },
      30_000,
      "bob's subscription to hear team-b's release",
    );
    const mark = seen.length;
    // The default account releases its `web`, then team-b its own: bob hears team-b's only.
    const aRelease = dataOf(await t.gql(RELEASE)).releaseChange.id;
    const bRelease = dataOf(await t.gql(RELEASE, {}, as(bob))).releaseChange.id;
    await eventually(
      async () => seen.slice(mark).some((e) => e.executionId === bRelease && e.type === "EXECUTION_STARTED"),
      30_000,
      "team-b's execution start",
    );
    // The default account's execution has by now written events (it waits at its approval).
    await whenAction("web", ADMIN_TOKEN, "Checkout", "Succeeded");
    expect(seen.filter((e) => e.executionId === aRelease)).toEqual([]);
    expect(seen.every((e) => e.executionId === null || e.executionId !== aExecution.id)).toBe(true);
    dispose();
    await client.dispose();
  });

  it("a user of the default account who assumes team-b's role operates team-b's web", async () => {
    // team-b's releases above wait at Prod, the oldest holding the approval (SUPERSEDED mode).
    const execution = await eventually(
      async () => {
        const { nodes } = dataOf(await t.gql(EXECUTIONS, { n: "web" }, as(bob))).pipeline.executions;
        return (nodes as Execution[]).find((e) => actionOf(e, "Approve").status === "InProgress");
      },
      30_000,
      "a team-b execution at its approval",
    );
    // bAdmin: the installation's admin (a default-account user) in team-b's AccountAccessRole.
    expect(dataOf(await t.gql(`{ pipeline(name: "web") { srn } }`, {}, as(bAdmin))).pipeline.srn).toBe(
      "srn:sluice:team-b:pipeline/web",
    );
    dataOf(await t.gql(APPROVE, { id: actionOf(execution, "Approve").id }, as(bAdmin)));
    await eventually(
      async () => {
        const { nodes } = dataOf(await t.gql(EXECUTIONS, { n: "web" }, as(bob))).pipeline.executions;
        return (nodes as Execution[]).some((e) => e.id === execution.id && e.status === "Succeeded");
      },
      30_000,
      "team-b's release approved by the assumed role",
    );
    // The approval is in team-b's audit log, by the real principal in the assumed role.
    const AUDIT = `{ auditEvents(first: 20, operation: "putApprovalResult") { nodes { principal account outcome assumedRole } } }`;
    expect(dataOf(await t.gql(AUDIT, {}, as(bob))).auditEvents.nodes).toContainEqual({
      principal: "user/admin",
      account: "team-b",
      outcome: "ok",
      assumedRole: "srn:sluice:team-b:role/AccountAccessRole (session setup)",
    });
    // Deleting the default account's web leaves team-b's.
    dataOf(await t.gql(`mutation { deletePipeline(name: "web") }`));
    expect(dataOf(await t.gql(`{ pipeline(name: "web") { name } }`)).pipeline).toBeNull();
    expect(dataOf(await t.gql(`{ pipeline(name: "web") { account } }`, {}, as(bob))).pipeline).toEqual({
      account: "team-b",
    });
  });

  it("team-b's webhook has an address of its account; the default account's address names no pipeline", async () => {
    const { url, secret } = dataOf(
      await t.gql(`mutation { createPipelineWebhook(pipelineName: "web") { url secret } }`, {}, as(bob)),
    ).createPipelineWebhook;
    expect(url).toMatch(/\/webhooks\/team-b\/web$/);
    const body = JSON.stringify({ zen: "ping" });
    // The server's address in this test (its public URL is configured, not where it listens).
    const post = (to: string) =>
      fetch(t.url.replace(/\/graphql$/, "") + new URL(to).pathname, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-hub-signature-256": `sha256=${crypto.createHmac("sha256", secret).update(body).digest("hex")}`,
        },
        body,
      });
    const answer = await post(url);
    expect([answer.status, await answer.json()]).toEqual([200, { ok: true, message: "pong" }]);
    // `/webhooks/web` is the default account's web, deleted above: no webhook there.
    expect((await post(url.replace("/team-b/", "/"))).status).toBe(404);
  });
});

describe("notifications in accounts", () => {
  it("rules, targets and deliveries are each account's; a rule hears its account's pipelines only", async () => {
    const TARGET = `mutation ($t: NotificationTargetInput!) { createNotificationTarget(target: $t) { id name url } }`;
    const RULE = `mutation ($r: NotificationRuleInput!) { createNotificationRule(rule: $r) { id } }`;
    // The same names in both accounts, each to its own address.
    const aTarget = dataOf(
      await t.gql(TARGET, { t: { name: "hook", kind: "WEBHOOK", url: receiver.url("/default") } }),
    ).createNotificationTarget;
    const bTarget = dataOf(
      await t.gql(TARGET, { t: { name: "hook", kind: "WEBHOOK", url: receiver.url("/team-b") } }, as(bob)),
    ).createNotificationTarget;
    // Every pipeline's creation: each rule covers all pipelines of its own account.
    const created = (targetIds: string[]) => ({
      r: { name: "created", eventTypes: ["PIPELINE_CREATED"], targetIds },
    });
    const aRule = dataOf(await t.gql(RULE, created([aTarget.id]))).createNotificationRule;
    // A rule cannot send to another account's target: as an unknown one.
    const cross = await t.gql(RULE, { r: { ...created([aTarget.id]).r, name: "cross" } }, as(bob));
    expect(codeOf(cross)).toBe("BAD_USER_INPUT");
    dataOf(await t.gql(RULE, created([bTarget.id]), as(bob)));

    // What the dashboard asks before offering changes: allowed in the acting account only.
    const ALLOWED = `query ($r: String!) { whoAmI { allowed(action: "sluice:ManageNotifications", resource: $r) } }`;
    const may = async (r: string, token: string) =>
      dataOf(await t.gql(ALLOWED, { r }, as(token))).whoAmI.allowed;
    expect(await may("srn:sluice:team-b:notifications", bob)).toBe(true);
    expect(await may("srn:sluice:default:notifications", bob)).toBe(false);
    expect(await may("srn:sluice:default:notifications", ADMIN_TOKEN)).toBe(true);

    const TARGETS = `{ notificationTargets { name url } }`;
    expect(dataOf(await t.gql(TARGETS)).notificationTargets).toEqual([
      { name: "hook", url: receiver.url("/default") },
    ]);
    expect(dataOf(await t.gql(TARGETS, {}, as(bob))).notificationTargets).toEqual([
      { name: "hook", url: receiver.url("/team-b") },
    ]);
    // Another account's rule, by id: as unknown.
    const RULE_BY_ID = `query ($id: ID!) { notificationRule(id: $id) { id } }`;
    expect(dataOf(await t.gql(RULE_BY_ID, { id: aRule.id }, as(bob))).notificationRule).toBeNull();
    expect(dataOf(await t.gql(RULE_BY_ID, { id: aRule.id })).notificationRule).toEqual({ id: aRule.id });
    const DELETE_RULE = `mutation ($id: ID!) { deleteNotificationRule(id: $id) }`;
    expect(codeOf(await t.gql(DELETE_RULE, { id: aRule.id }, as(bob)))).toBe("NOT_FOUND");

    dataOf(await t.gql(CREATE, { input: approval("made-in-default") }));
    dataOf(await t.gql(CREATE, { input: approval("made-in-team-b") }, as(bob)));
    const names = (path: string) => receiver.accepted(path).map((r) => r.json.pipeline.name);
    await eventually(
      async () => names("/default").length > 0 && names("/team-b").length > 0,
      30_000,
      "each account's creation notified",
    );
    expect(names("/default")).toEqual(["made-in-default"]);
    expect(names("/team-b")).toEqual(["made-in-team-b"]);
    // The delivery logs are per account too.
    const DELIVERIES = `{ notificationDeliveries(first: 50) { nodes { targetName message } } }`;
    const logged = async (token?: string) =>
      dataOf(await t.gql(DELIVERIES, {}, token ? as(token) : {})).notificationDeliveries.nodes.map(
        (d: { message: string }) => d.message,
      );
    expect(await logged()).toEqual(["Pipeline made-in-default was created (version 1)"]);
    expect(await logged(bob)).toEqual(["Pipeline made-in-team-b was created (version 1)"]);
  });
});

describe("agents in accounts", () => {
  it("an agent of team-b runs team-b's job, never the default account's, which waits for a default agent", async () => {
    // No test worker from here on: the agents below are the only ones.
    await workerA.stop();
    await workerB.stop();
    const build = (name: string, commands = "cat app.txt") =>
      sourceThen(
        name,
        { name: "Build", actions: [shellBuild("Make", commands)] },
        { checkout: { Repository: `file://${repo}` } },
      );
    // The default account's `build` first: its Checkout job is queued before any agent exists.
    dataOf(await t.gql(CREATE, { input: build("build") }));
    await whenAction("build", ADMIN_TOKEN, "Checkout", "Queued");

    const { token } = dataOf(
      await t.gql(`mutation { createAgentToken(description: "team-b agents") { token } }`, {}, as(bob)),
    ).createAgentToken;
    const agent = startAgentProcess({
      natsUrl: NATS_URL,
      prefix: t.natsPrefix,
      serverUrl: t.url,
      token,
      name: "b-agent",
      concurrency: 1,
    });
    await eventually(
      async () => {
        const { agents } = dataOf(await t.gql(`{ agents { name status } }`, {}, as(bob)));
        return agents.some(
          (a: { name: string; status: string }) => a.name === "b-agent" && a.status !== "offline",
        );
      },
      60_000,
      "team-b's agent online",
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; the agent said:\n${agent.output().slice(-3000)}`);
    });
    // The default account does not see team-b's agents.
    expect(dataOf(await t.gql(`{ agents { name } }`)).agents).toEqual([]);
    expect(dataOf(await t.gql(`{ agentTokens { description } }`)).agentTokens).toEqual([]);

    // Secrets are per account too: `db` of each account, and one of the default account's only.
    const PUT = `mutation ($n: String!, $v: String!) { putSecret(name: $n, value: $v) { name } }`;
    dataOf(await t.gql(PUT, { n: "db", v: "value-of-default" }));
    dataOf(await t.gql(PUT, { n: "only-default", v: "x" }));
    dataOf(await t.gql(PUT, { n: "db", v: "value-of-team-b" }, as(bob)));
    const SECRETS = `{ secrets { name } }`;
    expect(dataOf(await t.gql(SECRETS)).secrets).toEqual([{ name: "db" }, { name: "only-default" }]);
    expect(dataOf(await t.gql(SECRETS, {}, as(bob))).secrets).toEqual([{ name: "db" }]);
    const leak = await t.gql(
      CREATE,
      { input: build("leak", `echo "{{resolve:secret:only-default}}"`) },
      as(bob),
    );
    expect(codeOf(leak)).toBe("BAD_USER_INPUT");
    expect(leak.errors?.[0]?.extensions?.validationErrors?.[0]?.message).toBe(
      'No secret is named "only-default": create it first (putSecret, sluice put-secret).',
    );

    // team-b's build: its job gets team-b's `db` (the script fails on any other value).
    dataOf(
      await t.gql(
        CREATE,
        { input: build("build", `test "{{resolve:secret:db}}" = "value-of-team-b"`) },
        as(bob),
      ),
    );
    const done = await eventually(
      async () => {
        const execution = await latest("build", bob);
        return execution && ["Succeeded", "Failed"].includes(execution.status) ? execution : undefined;
      },
      90_000,
      "team-b's build to end",
    );
    expect(done.status).toBe("Succeeded");
    expect(actionOf(done, "Checkout").agent?.name).toBe("b-agent");
    expect(actionOf(done, "Make").agent?.name).toBe("b-agent");
    // The metrics tell the two accounts' `build` apart.
    const metrics = async () =>
      (
        await fetch(t.url.replace(/\/graphql$/, "/metrics"), {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).text();
    await eventually(
      async () =>
        sample(await metrics(), "sluice_executions", {
          account: "team-b",
          pipeline: "build",
          status: "Succeeded",
        }) === 1,
      30_000,
      "team-b's build in the metrics",
    );
    expect(
      // One agent of team-b (online or busy: one line either way).
      sample(await metrics(), "sluice_agents", { account: "team-b", pool: "default" }),
    ).toBe(1);

    // The default account's job was never handed to it: still queued, still in its own consumer.
    const waiting = (await latest("build", ADMIN_TOKEN))!;
    expect(actionOf(waiting, "Checkout")).toMatchObject({ status: "Queued", agent: null });
    const nc = await connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const names = natsNames(t.natsPrefix);
      const info = await jsm.consumers.info(
        names.streams.jobs,
        jobConsumerConfig(t.natsPrefix, "default", GIT).durable_name,
      );
      expect(info.num_pending + info.num_ack_pending).toBe(1);
    } finally {
      await nc.close();
    }
    // A default-account worker takes it.
    const worker = await TestWorker.start(t.natsPrefix, [GIT], () => ok, "worker-default-2");
    try {
      await whenAction("build", ADMIN_TOKEN, "Checkout", "Succeeded");
      expect(worker.jobs.map((j) => j.pipelineName)).toEqual(["build"]);
    } finally {
      await worker.stop();
    }
    expect(agent.output()).not.toMatch(/Permissions Violation/i);

    // NATS without authentication enforces no pool: a client pulling the default account's
    // consumer in the name of team-b's agent. Its accept and complete change nothing.
    const bAgentId = dataOf(await t.gql(`{ agents { id name } }`, {}, as(bob))).agents.find(
      (a: { name: string }) => a.name === "b-agent",
    ).id;
    dataOf(await t.gql(CREATE, { input: build("stolen") }));
    const rogue = await TestWorker.start(t.natsPrefix, [GIT], () => ok, bAgentId);
    try {
      await eventually(async () => rogue.jobs.some((j) => j.pipelineName === "stolen"), 30_000, "the steal");
      // Every result the rogue sent is consumed: the engine consumer has nothing pending.
      const nc2 = await connectNats();
      try {
        const jsm = await jetstreamManager(nc2);
        const names = natsNames(t.natsPrefix);
        await eventually(
          async () => {
            const info = await jsm.consumers.info(names.streams.results, names.consumers.engine);
            return info.num_pending === 0 && info.num_ack_pending === 0;
          },
          30_000,
          "the engine to consume the rogue's results",
        );
      } finally {
        await nc2.close();
      }
      expect(actionOf((await latest("stolen", ADMIN_TOKEN))!, "Checkout")).toMatchObject({
        status: "Queued",
        agent: null,
      });
    } finally {
      await rogue.stop();
    }
  });
});
