/**
 * Identity and resource-level permissions (issue #10) on a real server, PostgreSQL and NATS: users,
 * service accounts, API tokens, policies and attachments, and the one checker deciding each
 * operation on its resource (a stage, an action), filtering lists and streams, closing the
 * connections of revoked tokens.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { SELF_SERVICE_OPERATIONS } from "../../src/domain/policy/operations";
import { createSchema } from "../../src/graphql/schema";
import { CREATE } from "../support/documents";
import { dummyVariables, operationFor, withArguments } from "../support/operations";
import { dataOf, startTestServer, type GraphQLResponse, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(120_000);

let t: TestServer;
let worker: TestWorker;
beforeAll(async () => {
  t = await startTestServer();
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.configuration.Commands?.includes("fail")
      ? { outcome: "Failed", summary: "exit status 1" }
      : { outcome: "Succeeded", outputVariables: { CommitId: "abc123" } },
  );
});
afterAll(async () => {
  await worker.stop();
  await t.stop();
});

const SRN = "srn:sluice:default";
const action = (name: string, category: string, provider: string, extra: Record<string, unknown> = {}) => ({
  name,
  actionTypeId: { category, owner: "Sluice", provider, version: "1" },
  ...extra,
});
const source = {
  name: "Source",
  actions: [
    action("Checkout", "Source", "Git", {
      configuration: { Repository: "https://git.example/app.git", Branch: "main" },
      outputArtifacts: [{ name: "Src" }],
    }),
  ],
};
const approvalStage = (name: string) => ({ name, actions: [action("Approve", "Approval", "Manual")] });
const buildStage = (commands: string) => ({
  name: "Build",
  actions: [
    action("Make", "Build", "Shell", {
      configuration: { Commands: commands },
      inputArtifacts: [{ name: "Src" }],
    }),
  ],
});

async function createUserWithToken(name: string, policies: string[]): Promise<string> {
  dataOf(
    await t.gql(`mutation ($n: String!) { createUser(name: $n, email: "${name}@example.com") { name } }`, {
      n: name,
    }),
  );
  for (const policy of policies) {
    dataOf(
      await t.gql(`mutation ($p: String!, $u: String!) { attachPolicy(policyName: $p, principal: $u) }`, {
        p: policy,
        u: `user/${name}`,
      }),
    );
  }
  const { createApiToken } = dataOf(
    await t.gql(
      `mutation ($u: String!) { createApiToken(principal: $u, description: "tests") { secret token { id principal } } }`,
      { u: `user/${name}` },
    ),
  );
  expect(createApiToken.secret).toMatch(/^slc_[A-Za-z0-9_-]{40,}$/);
  expect(createApiToken.token.principal).toBe(`user/${name}`);
  return createApiToken.secret;
}

async function putPolicy(name: string, statements: Array<Record<string, unknown>>): Promise<void> {
  dataOf(
    await t.gql(`mutation ($n: String!, $d: JSONObject!) { putPolicy(name: $n, document: $d) { name } }`, {
      n: name,
      d: { Version: "2012-10-17", Statement: statements },
    }),
  );
}

const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code;

async function release(pipeline: string): Promise<string> {
  return dataOf(
    await t.gql(`mutation ($p: String!) { releaseChange(pipelineName: $p) { id } }`, { p: pipeline }),
  ).releaseChange.id;
}

async function execution(id: string): Promise<any> {
  return dataOf(
    await t.gql(
      `query ($id: ID!) { pipelineExecution(id: $id) { status stages { name status actions { id name approvalPending } } } }`,
      { id },
    ),
  ).pipelineExecution;
}

const pendingApprovalIn = async (executionId: string, stage: string) =>
  eventually(
    async () =>
      (await execution(executionId)).stages
        .find((s: any) => s.name === stage)
        ?.actions.find((a: any) => a.approvalPending)?.id as string | undefined,
    30_000,
    `an approval pending in ${stage}`,
  );

const firstExecution = (pipeline: string) =>
  eventually(
    async () =>
      dataOf(
        await t.gql(`query ($p: String!) { pipeline(name: $p) { executions(first: 1) { nodes { id } } } }`, {
          p: pipeline,
        }),
      ).pipeline.executions.nodes[0]?.id as string | undefined,
    30_000,
    `the first execution of ${pipeline}`,
  );

const APPROVE = `mutation ($id: ID!) { putApprovalResult(actionExecutionId: $id, approved: true, summary: "ok") { status } }`;

describe("a stage-scoped approver", () => {
  it("approves on pipeline/web/stage/Prod/* and nowhere else; the audit log names her", async () => {
    dataOf(
      await t.gql(CREATE, {
        input: { name: "web", stages: [source, approvalStage("Staging"), approvalStage("Prod")] },
      }),
    );
    dataOf(await t.gql(CREATE, { input: { name: "api", stages: [source, approvalStage("Prod")] } }));
    await putPolicy("web-prod-approvers", [
      {
        Sid: "ApproveWebProd",
        Effect: "Allow",
        Action: ["sluice:PutApprovalResult"],
        Resource: [`${SRN}:pipeline/web/stage/Prod/*`],
      },
    ]);
    const alice = await createUserWithToken("alice", ["ReadOnly", "web-prod-approvers"]);

    // A new pipeline starts an execution by itself.
    const web = await firstExecution("web");
    const api = await firstExecution("api");
    const staging = await pendingApprovalIn(web, "Staging");
    const refused = await t.gql(APPROVE, { id: staging }, { token: alice });
    expect(codeOf(refused)).toBe("FORBIDDEN");
    expect(refused.errors?.[0]?.message).toContain(
      `sluice:PutApprovalResult on ${SRN}:pipeline/web/stage/Staging/action/Approve`,
    );
    const apiProd = await pendingApprovalIn(api, "Prod");
    expect(codeOf(await t.gql(APPROVE, { id: apiProd }, { token: alice }))).toBe("FORBIDDEN");

    dataOf(await t.gql(APPROVE, { id: staging })); // the admin
    const prod = await pendingApprovalIn(web, "Prod");
    expect(dataOf(await t.gql(APPROVE, { id: prod }, { token: alice })).putApprovalResult.status).toBe(
      "Succeeded",
    );
    await eventually(async () => (await execution(web)).status === "Succeeded", 30_000, "web succeeded");
    expect((await execution(api)).stages[1].actions[0].approvalPending).toBe(true);

    const audit = dataOf(
      await t.gql(`{ auditEvents(operation: "putApprovalResult") { nodes { principal outcome } } }`),
    ).auditEvents.nodes;
    expect(audit).toEqual(
      expect.arrayContaining([
        { principal: "user/alice", outcome: "ok" },
        { principal: "user/alice", outcome: "FORBIDDEN" },
        { principal: "user/admin", outcome: "ok" },
      ]),
    );
  });
});

describe("a stage-scoped retrier", () => {
  it("retries the one stage of the one pipeline its policy names", async () => {
    for (const name of ["flaky", "flaky2"]) {
      dataOf(await t.gql(CREATE, { input: { name, stages: [source, buildStage("make fail")] } }));
    }
    await putPolicy("flaky-build-retry", [
      {
        Effect: "Allow",
        Action: ["sluice:RetryStageExecution"],
        Resource: [`${SRN}:pipeline/flaky/stage/Build`],
      },
    ]);
    const bob = await createUserWithToken("bob", ["ReadOnly", "flaky-build-retry"]);
    const flaky = await release("flaky");
    const flaky2 = await release("flaky2");
    for (const id of [flaky, flaky2]) {
      await eventually(async () => (await execution(id)).status === "Failed", 30_000, "a failed execution");
    }
    const RETRY = `mutation ($id: ID!, $s: String!) { retryStage(executionId: $id, stageName: $s) { id status } }`;
    const other = await t.gql(RETRY, { id: flaky2, s: "Build" }, { token: bob });
    expect(codeOf(other)).toBe("FORBIDDEN");
    expect(other.errors?.[0]?.message).toContain(`${SRN}:pipeline/flaky2/stage/Build`);
    expect(codeOf(await t.gql(RETRY, { id: flaky, s: "Source" }, { token: bob }))).toBe("FORBIDDEN");
    expect(dataOf(await t.gql(RETRY, { id: flaky, s: "Build" }, { token: bob })).retryStage.status).toBe(
      "InProgress",
    );
  });
});

describe("a ReadOnly user", () => {
  let rita: string;
  beforeAll(async () => {
    rita = await createUserWithToken("rita", ["ReadOnly"]);
  });

  it("sees pipelines, their state, history and logs", async () => {
    const data = dataOf(
      await t.gql(
        `{ pipelines(first: 50) { nodes { name state { stages { name } } executions(first: 5) { nodes { id } } } } }`,
        {},
        { token: rita },
      ),
    );
    const web = data.pipelines.nodes.find((p: any) => p.name === "web");
    expect(web.state.stages.map((s: any) => s.name)).toEqual(["Source", "Staging", "Prod"]);
    expect(web.executions.nodes.length).toBeGreaterThan(0);
    const run = await execution(web.executions.nodes[0].id);
    const checkout = run.stages[0].actions[0].id;
    const log = await t.gql(
      `query ($id: ID!) { actionLog(actionExecutionId: $id) { complete } }`,
      { id: checkout },
      { token: rita },
    );
    expect(log.errors).toBeUndefined();
    const who = dataOf(
      await t.gql(`{ whoAmI { principal kind policies { name attachedTo } } }`, {}, { token: rita }),
    );
    expect(who.whoAmI).toEqual({
      principal: "user/rita",
      kind: "user",
      policies: [{ name: "ReadOnly", attachedTo: "user/rita" }],
    });
  });

  it("is refused every mutation of the schema, and changes nothing", async () => {
    const schema = await createSchema();
    const before = dataOf(await t.gql(`{ auditEvents(first: 1) { nodes { operation } } }`));
    let checked = 0;
    for (const field of Object.values(schema.getMutationType()!.getFields())) {
      // signIn, signOut and changePassword: every principal's own (password-sign-in.test.ts).
      if (SELF_SERVICE_OPERATIONS.includes(`Mutation.${field.name}`)) continue;
      // A principal argument names one (that does not exist): the checker decides on it; a role
      // argument names one (assumeRole): its trust policy decides, and names nobody; a
      // resourceArn (tagResource, untagResource) names a pipeline by its SRN. As arguments, or
      // as fields of `input` for the mutations of GitHub's style.
      const variables = withArguments(field, dummyVariables(field), {
        principal: "user/nobody",
        role: "role/nobody",
        resourceArn: `${SRN}:pipeline/x`,
        ...(field.name.startsWith("importPipeline") ? { document: { name: "x" } } : {}),
      });
      const response = await t.gql(operationFor("mutation", field), variables, { token: rita });
      expect({ field: field.name, refused: ["FORBIDDEN", "NOT_FOUND"].includes(codeOf(response)) }).toEqual({
        field: field.name,
        refused: true,
      });
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
    // Every refusal is audited as refused: none reached its resolver.
    const rows = dataOf(
      await t.gql(`{ auditEvents(first: 100, principal: "user/rita") { nodes { outcome } } }`),
    ).auditEvents.nodes;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r: any) => ["FORBIDDEN", "NOT_FOUND"].includes(r.outcome))).toBe(true);
    expect(before).toBeDefined();
  });
});

describe("an anonymous caller", () => {
  it("is refused every query, mutation and subscription of the schema", async () => {
    const schema = await createSchema();
    let checked = 0;
    for (const [kind, root] of [
      ["query", schema.getQueryType()],
      ["mutation", schema.getMutationType()],
    ] as const) {
      for (const field of Object.values(root!.getFields())) {
        const response = await t.gql(operationFor(kind, field), dummyVariables(field), { token: null });
        expect({ field: field.name, code: codeOf(response) }).toEqual({
          field: field.name,
          code: "UNAUTHENTICATED",
        });
        checked++;
      }
    }
    for (const field of Object.values(schema.getSubscriptionType()!.getFields())) {
      // Over SSE (graphql-ws refuses the connection itself: auth.test.ts).
      const response = await fetch(t.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({
          query: operationFor("subscription", field),
          variables: dummyVariables(field),
        }),
      });
      expect({ field: field.name, status: response.status }).toEqual({ field: field.name, status: 401 });
      await response.body?.cancel();
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe("lists and lookups", () => {
  it("show only what the caller may read, and hide what it may not know of", async () => {
    await putPolicy("web-only", [
      {
        Effect: "Allow",
        Action: ["sluice:ListPipelines", "sluice:GetPipeline", "sluice:GetPipelineExecution"],
        Resource: [`${SRN}:pipeline/web`],
      },
    ]);
    const wendy = await createUserWithToken("wendy", ["web-only"]);
    const names = dataOf(
      await t.gql(
        `{ pipelines(first: 2) { nodes { name } pageInfo { hasNextPage } } }`,
        {},
        { token: wendy },
      ),
    );
    expect(names.pipelines).toEqual({ nodes: [{ name: "web" }], pageInfo: { hasNextPage: false } });
    expect(codeOf(await t.gql(`{ pipeline(name: "api") { name } }`, {}, { token: wendy }))).toBe("FORBIDDEN");
    expect(codeOf(await t.gql(`{ agents { name } }`, {}, { token: wendy }))).toBe("FORBIDDEN");

    const apiRun = dataOf(await t.gql(`{ pipeline(name: "api") { executions(first: 1) { nodes { id } } } }`))
      .pipeline.executions.nodes[0].id;
    const hidden = await t.gql(
      `query ($id: ID!) { pipelineExecution(id: $id) { status } }`,
      { id: apiRun },
      { token: wendy },
    );
    const unknown = "00000000-0000-4000-8000-000000000000";
    const missing = await t.gql(
      `query ($id: ID!) { pipelineExecution(id: $id) { status } }`,
      { id: unknown },
      { token: wendy },
    );
    // pipelineExecution answers null for an unknown id: for a hidden one too.
    expect(hidden).toEqual({ data: { pipelineExecution: null } });
    expect(missing).toEqual({ data: { pipelineExecution: null } });
    const LOG = `query ($id: ID!) { actionLog(actionExecutionId: $id) { complete } }`;
    const apiCheckout = (await execution(apiRun)).stages[0].actions[0].id;
    const hiddenLog = await t.gql(LOG, { id: apiCheckout }, { token: wendy });
    const missingLog = await t.gql(LOG, { id: unknown }, { token: wendy });
    expect([codeOf(hiddenLog), codeOf(missingLog)]).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    expect(hiddenLog.errors?.[0]?.message.replace(apiCheckout, "ID")).toBe(
      missingLog.errors?.[0]?.message.replace(unknown, "ID"),
    );

    // The HTTP routes take the same decision.
    const base = t.url.replace(/\/graphql$/, "");
    const get = (path: string, token: string | null) =>
      fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const artifactOfApi = await get(`/artifacts/${apiRun}/Src`, wendy);
    const artifactOfNothing = await get(`/artifacts/${unknown}/Src`, wendy);
    expect([artifactOfApi.status, artifactOfNothing.status]).toEqual([404, 404]);
    expect(((await artifactOfApi.json()) as any).errors[0].message.replace(apiRun, "ID")).toBe(
      ((await artifactOfNothing.json()) as any).errors[0].message.replace(unknown, "ID"),
    );
    expect((await get(`/artifacts/${apiRun}/Src`, null)).status).toBe(401);
    const version = await get("/version", wendy);
    expect(version.status).toBe(403);
    expect(((await version.json()) as any).error).toBe(
      `You are not allowed sluice:GetVersion on ${SRN}:installation.`,
    );
  });

  it("simulatePolicy says which statement decided", async () => {
    const sim = dataOf(
      await t.gql(
        `query ($r: String!) { simulatePolicy(principal: "user/alice", action: "sluice:PutApprovalResult", resource: $r) { decision allowed statement { policy attachedTo sid index } explanation } }`,
        { r: `${SRN}:pipeline/web/stage/Prod/action/Approve` },
      ),
    ).simulatePolicy;
    expect(sim).toMatchObject({
      decision: "ALLOW",
      allowed: true,
      statement: { policy: "web-prod-approvers", attachedTo: "user/alice", sid: "ApproveWebProd", index: 0 },
    });
    const denied = dataOf(
      await t.gql(
        `{ simulatePolicy(principal: "user/alice", action: "sluice:PutApprovalResult", resource: "${SRN}:pipeline/api/stage/Prod/action/Approve") { decision statement { policy } } }`,
      ),
    ).simulatePolicy;
    expect(denied).toEqual({ decision: "IMPLICIT_DENY", statement: null });
  });
});

describe("API tokens", () => {
  it("a revoked token closes the subscriptions opened with it, and is refused", async () => {
    const sam = await createUserWithToken("sam", ["ReadOnly"]);
    const { apiTokens } = dataOf(
      await t.gql(`{ apiTokens(principal: "user/sam") { id lastUsedAt revokedAt } }`),
    );
    expect(apiTokens).toHaveLength(1);
    expect(apiTokens[0].lastUsedAt).toBeNull();
    const client: Client = createClient({
      url: t.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${sam}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    const closed = new Promise<number>((resolve) =>
      client.on("closed", (e) => resolve((e as { code: number }).code)),
    );
    await new Promise<void>((resolve) => client.on("connected", () => resolve()));
    const completed = new Promise<unknown>((resolve) =>
      client.subscribe(
        { query: `subscription { pipelineEvents { type } }` },
        { next: () => {}, error: resolve, complete: () => resolve(null) },
      ),
    );
    // And a stream over Server-Sent Events (its headers come when it starts).
    const stream = await fetch(t.url, {
      method: "POST",
      headers: {
        accept: "text/event-stream",
        "content-type": "application/json",
        authorization: `Bearer ${sam}`,
      },
      body: JSON.stringify({ query: `subscription { pipelineEvents { type } }` }),
    });
    expect(stream.status).toBe(200);
    const streamEnded = (async () => {
      const reader = stream.body!.getReader();
      try {
        while (!(await reader.read()).done);
      } catch {
        // the connection was cut: ended too
      }
      return "ended";
    })();
    const used = dataOf(await t.gql(`{ apiTokens(principal: "user/sam") { lastUsedAt } }`));
    expect(used.apiTokens[0].lastUsedAt).not.toBeNull();

    const revoked = dataOf(
      await t.gql(`mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt revokedBy } }`, {
        id: apiTokens[0].id,
      }),
    ).revokeApiToken;
    expect(revoked.revokedBy).toBe("user/admin");
    expect(await closed).toBe(4403);
    await completed;
    expect(await streamEnded).toBe("ended");
    expect(codeOf(await t.gql(`{ whoAmI { principal } }`, {}, { token: sam }))).toBe("UNAUTHENTICATED");
    await client.dispose();
  });

  it("a token revoked on one server copy closes its connections on another within seconds", async () => {
    // A second copy on the same database and NATS prefix.
    const other = await startTestServer({
      env: { DATABASE_URL: t.database!.url, SLUICE_NATS_PREFIX: t.natsPrefix },
    });
    try {
      const tom = await createUserWithToken("tom", ["ReadOnly"]);
      const client: Client = createClient({
        url: other.url.replace(/^http/, "ws"),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${tom}` },
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {},
      });
      const closed = new Promise<number>((resolve) =>
        client.on("closed", (e) => resolve((e as { code: number }).code)),
      );
      await new Promise<void>((resolve) => client.on("connected", () => resolve()));
      const { apiTokens } = dataOf(await t.gql(`{ apiTokens(principal: "user/tom") { id } }`));
      dataOf(await t.gql(`mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: apiTokens[0].id }));
      const revokedAt = Date.now();
      expect(await closed).toBe(4403);
      // The other copy rechecks every 2 s and caches a principal for 3 s.
      expect(Date.now() - revokedAt).toBeLessThan(10_000);
      expect(codeOf(await other.gql(`{ whoAmI { principal } }`, {}, { token: tom }))).toBe("UNAUTHENTICATED");
      await client.dispose();
    } finally {
      await other.server.stop();
      await other.database?.drop();
    }
  });

  it("an expired token is refused", async () => {
    dataOf(await t.gql(`mutation { createServiceAccount(name: "ci", description: "builds") { name } }`));
    dataOf(await t.gql(`mutation { attachPolicy(policyName: "ReadOnly", principal: "service-account/ci") }`));
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const { secret } = dataOf(
      await t.gql(
        `mutation ($e: DateTime) { createApiToken(principal: "service-account/ci", description: "short", expiresAt: $e) { secret } }`,
        { e: expiresAt },
      ),
    ).createApiToken;
    expect(dataOf(await t.gql(`{ whoAmI { principal } }`, {}, { token: secret })).whoAmI.principal).toBe(
      "service-account/ci",
    );
    await eventually(
      async () =>
        codeOf(await t.gql(`{ whoAmI { principal } }`, {}, { token: secret })) === "UNAUTHENTICATED",
      15_000,
      "the token to expire",
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
  });

  it("refuses bad input with a code and changes nothing", async () => {
    const past = await t.gql(
      `mutation { createApiToken(principal: "user/rita", description: "x", expiresAt: "2020-01-01T00:00:00Z") { secret } }`,
    );
    expect(codeOf(past)).toBe("BAD_USER_INPUT");
    expect(codeOf(await t.gql(`mutation { createUser(name: "a/b") { name } }`))).toBe("BAD_USER_INPUT");
    expect(codeOf(await t.gql(`mutation { createUser(name: "rita") { name } }`))).toBe("CONFLICT");
    const bad = await t.gql(
      `mutation { putPolicy(name: "p", document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["sluice:Nope"], Resource: ["*"] }] }) { name } }`,
    );
    expect(codeOf(bad)).toBe("BAD_USER_INPUT");
    expect(codeOf(await t.gql(`mutation { putPolicy(name: "Admin", document: {}) { name } }`))).toBe(
      "BAD_USER_INPUT",
    );
    expect(codeOf(await t.gql(`mutation { deletePolicy(name: "web-only") }`))).toBe("CONFLICT");
    const policies = dataOf(await t.gql(`{ policies { name managed } }`)).policies.map((p: any) => p.name);
    expect(policies).not.toContain("p");
  });
});

describe("the dashboard's identity lists and policy check", () => {
  const LISTS = `{ users { name email } groups { name members } serviceAccounts { name description }
                   policyAttachments { policyName principal attachedBy } }`;

  it("list users, groups with their members, service accounts and attachments, filtered to what the caller may manage", async () => {
    dataOf(await t.gql(`mutation { createUser(name: "lena", email: "lena@example.com") { name } }`));
    dataOf(await t.gql(`mutation { createGroup(name: "leads") { name members } }`));
    dataOf(await t.gql(`mutation { addUserToGroup(groupName: "leads", userName: "lena") }`));
    dataOf(await t.gql(`mutation { createServiceAccount(name: "deployer", description: "CI") { name } }`));
    dataOf(await t.gql(`mutation { attachPolicy(policyName: "ReadOnly", principal: "group/leads") }`));

    const all = dataOf(await t.gql(LISTS));
    expect(all.users).toEqual(expect.arrayContaining([{ name: "lena", email: "lena@example.com" }]));
    expect(all.users.map((u: any) => u.name)).toEqual([...all.users.map((u: any) => u.name)].sort());
    expect(all.groups).toEqual(expect.arrayContaining([{ name: "leads", members: ["lena"] }]));
    expect(all.serviceAccounts).toEqual(expect.arrayContaining([{ name: "deployer", description: "CI" }]));
    expect(all.policyAttachments).toEqual(
      expect.arrayContaining([
        { policyName: "ReadOnly", principal: "group/leads", attachedBy: "user/admin" },
      ]),
    );

    // Allowed sluice:ManageIdentity on users named l* only: those, and their attachments; no group.
    await putPolicy("manage-l-users", [
      { Effect: "Allow", Action: ["sluice:ManageIdentity"], Resource: [`${SRN}:user/l*`] },
    ]);
    dataOf(await t.gql(`mutation { attachPolicy(policyName: "ReadOnly", principal: "user/lena") }`));
    const mona = await createUserWithToken("mona", ["manage-l-users"]);
    const scoped = dataOf(await t.gql(LISTS, {}, { token: mona }));
    expect(scoped.users).toEqual([{ name: "lena", email: "lena@example.com" }]);
    expect(scoped.groups).toEqual([]);
    expect(scoped.serviceAccounts).toEqual([]);
    expect(scoped.policyAttachments).toEqual([
      { policyName: "ReadOnly", principal: "user/lena", attachedBy: "user/admin" },
    ]);

    // ReadOnly manages nothing: each list is refused, naming the action.
    const reader = await createUserWithToken("lurker", ["ReadOnly"]);
    for (const list of [
      "users { name }",
      "groups { name }",
      "serviceAccounts { name }",
      "policyAttachments { principal }",
    ]) {
      const refused = await t.gql(`{ ${list} }`, {}, { token: reader });
      expect([list, codeOf(refused), refused.errors?.[0]?.message]).toEqual([
        list,
        "FORBIDDEN",
        "You are not allowed sluice:ManageIdentity on any resource.",
      ]);
    }
  });

  it("validatePolicy answers putPolicy's problems with their paths, and saves nothing", async () => {
    const CHECK = `query ($d: JSON!) { validatePolicy(document: $d) { valid problems { path message } } }`;
    const POLICIES = `{ policies { name updatedAt } }`;
    const before = dataOf(await t.gql(POLICIES)).policies;
    const bad = dataOf(
      await t.gql(CHECK, {
        d: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Alow", Action: "sluice:GetPipeline", Resource: `${SRN}:pipeline/web` },
            { Effect: "Allow", Action: "sluice:NoSuchThing", Resource: `${SRN}:pipeline/web` },
          ],
        },
      }),
    ).validatePolicy;
    expect(bad.valid).toBe(false);
    expect(bad.problems.map((p: any) => p.path)).toEqual(["Statement[0].Effect", "Statement[1].Action"]);
    expect(bad.problems[1].message).toContain('"sluice:NoSuchThing" matches no Sluice action');
    const notObject = dataOf(await t.gql(CHECK, { d: [1, 2] })).validatePolicy;
    expect(notObject).toEqual({
      valid: false,
      problems: [{ path: "", message: expect.stringContaining("A policy must be a JSON object") }],
    });
    const good = dataOf(
      await t.gql(CHECK, {
        d: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "sluice:Get*", Resource: `${SRN}:pipeline/web` }],
        },
      }),
    ).validatePolicy;
    expect(good).toEqual({ valid: true, problems: [] });
    // Nothing was saved; a ReadOnly caller may not ask.
    expect(dataOf(await t.gql(POLICIES)).policies).toEqual(before);
    const reader = await createUserWithToken("checker", ["ReadOnly"]);
    expect(codeOf(await t.gql(CHECK, { d: {} }, { token: reader }))).toBe("FORBIDDEN");
  });
});
