/**
 * The audit log: every mutation with who, what and how it went, newest first, filterable, with
 * secrets and documents kept out; refused queries and subscriptions within a budget (one row per
 * principal, operation and resource per window, counting its refusals).
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { REFUSALS_PER_MINUTE } from "../../src/graphql/audit";
import { FOLDED_RESOURCES, REFUSED_READ_KEYS } from "../../src/auth/refused-reads";
import { CREATE, simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  // One window for the whole file: the test writes the refusals' rows with flush().
  t = await startTestServer({ env: { SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS: "3600" } });
});
afterAll(async () => {
  await t.stop();
});

const AUDIT = /* GraphQL */ `
  query ($first: Int, $after: String, $pipelineName: String, $operation: String) {
    auditEvents(first: $first, after: $after, pipelineName: $pipelineName, operation: $operation) {
      nodes {
        principal
        operation
        pipelineName
        target
        arguments
        outcome
        error
        requestId
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

it("records mutations that succeed and fail, newest first, without secrets", async () => {
  dataOf(await t.gql(CREATE, { input: simplePipeline("audited") }));
  dataOf(
    await t.gql(
      `mutation { toggleTransition(pipelineName: "audited", stageName: "Build", enabled: false, reason: "freeze") { enabled } }`,
    ),
  );
  const refused = await t.gql(`mutation { releaseChange(pipelineName: "missing") { id } }`);
  expect(refused.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  const { createAgentToken } = dataOf(
    await t.gql(`mutation { createAgentToken(description: "ci hosts") { token } }`),
  );

  const all = dataOf(await t.gql(AUDIT, { first: 10 })).auditEvents.nodes;
  expect(all.map((e: any) => `${e.operation} ${e.outcome}`)).toEqual([
    "createAgentToken ok",
    "releaseChange NOT_FOUND",
    "toggleTransition ok",
    "createPipeline ok",
  ]);
  expect(all[0]).toMatchObject({ principal: "user/admin", arguments: { description: "ci hosts" } });
  expect(JSON.stringify(all)).not.toContain(createAgentToken.token);
  expect(all[1]).toMatchObject({ pipelineName: "missing", error: expect.stringContaining("missing") });
  expect(all[2]).toMatchObject({
    pipelineName: "audited",
    target: "stageName=Build",
    arguments: { pipelineName: "audited", stageName: "Build", enabled: false, reason: "freeze" },
  });
  expect(all[3]).toMatchObject({ pipelineName: "audited", arguments: { input: { name: "audited" } } });
  expect(all[3].requestId).toMatch(/^[0-9a-f-]{36}$/);

  const forPipeline = dataOf(await t.gql(AUDIT, { pipelineName: "audited" })).auditEvents.nodes;
  expect(forPipeline.map((e: any) => e.operation)).toEqual(["toggleTransition", "createPipeline"]);
  const page1 = dataOf(await t.gql(AUDIT, { first: 3 })).auditEvents;
  expect(page1.pageInfo.hasNextPage).toBe(true);
  const page2 = dataOf(await t.gql(AUDIT, { first: 3, after: page1.pageInfo.endCursor })).auditEvents;
  expect(page2.nodes.map((e: any) => e.operation)).toEqual(["createPipeline"]);
  expect(page2.pageInfo.hasNextPage).toBe(false);
});

it("keeps newest first across many events and pages, and finds the pipeline of an execution's mutations", async () => {
  dataOf(await t.gql(CREATE, { input: simplePipeline("many") }));
  for (let i = 0; i < 12; i++) {
    dataOf(
      await t.gql(
        `mutation ($e: Boolean!, $r: String) { toggleTransition(pipelineName: "many", stageName: "Build", enabled: $e, reason: $r) { enabled } }`,
        { e: i % 2 === 1, r: `r${i}` },
      ),
    );
  }
  const { pipeline } = dataOf(
    await t.gql(`{ pipeline(name: "many") { executions(first: 1) { nodes { id } } } }`),
  );
  const stop = await t.gql(
    `mutation ($id: ID!) { stopExecution(executionId: $id, abandon: true, reason: "x") { status } }`,
    {
      id: pipeline.executions.nodes[0].id,
    },
  );
  expect(stop.errors).toBeUndefined();

  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = dataOf(await t.gql(AUDIT, { first: 5, after, pipelineName: "many" })).auditEvents;
    seen.push(...page.nodes.map((e: any) => `${e.operation}:${e.arguments.reason ?? ""}`));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  expect(seen).toEqual([
    "stopExecution:x",
    ...Array.from({ length: 12 }, (_, i) => `toggleTransition:r${11 - i}`),
    "createPipeline:",
  ]);
});

it("records mutations refused for a missing token one by one, within a budget", async () => {
  const refused = await t.gql(
    `mutation { toggleTransition(pipelineName: "audited", stageName: "Build", enabled: false, reason: "sneaky") { enabled } }`,
    undefined,
    { token: null },
  );
  expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  const query = await t.gql(`{ pipelines { nodes { name } } }`, undefined, { token: "not-a-token" });
  expect(query.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

  // (The refused query waits for its window's row: the next test.)
  const [latest] = dataOf(await t.gql(AUDIT, { first: 1 })).auditEvents.nodes;
  expect(latest).toMatchObject({
    principal: "anonymous",
    operation: "toggleTransition",
    pipelineName: "audited",
    outcome: "UNAUTHENTICATED",
    arguments: { reason: "sneaky" },
    error: expect.stringMatching(/^A valid API token is required/),
  });

  // A flood of unauthenticated mutations fills the log only up to the budget (REFUSALS_PER_MINUTE).
  for (let i = 0; i < REFUSALS_PER_MINUTE + 20; i++) {
    await t.gql(`mutation { deletePipeline(name: "flood-${i}") }`, undefined, { token: null });
  }
  const recorded = dataOf(await t.gql(AUDIT, { first: 100, operation: "deletePipeline" })).auditEvents.nodes;
  expect(recorded.every((e: any) => e.outcome === "UNAUTHENTICATED")).toBe(true);
  expect(recorded.length).toBeGreaterThan(REFUSALS_PER_MINUTE - 10);
  expect(recorded.length).toBeLessThan(REFUSALS_PER_MINUTE + 5);
});

const REFUSED = /* GraphQL */ `
  query ($principal: String, $operation: String) {
    auditEvents(first: 100, principal: $principal, operation: $operation) {
      nodes {
        principal
        operation
        target
        arguments
        outcome
        error
        occurrences
      }
    }
  }
`;

async function tokenOf(user: string, policy: string | null): Promise<string> {
  dataOf(await t.gql(`mutation ($n: String!) { createUser(name: $n) { name } }`, { n: user }));
  if (policy) {
    dataOf(
      await t.gql(`mutation ($p: String!, $u: String!) { attachPolicy(policyName: $p, principal: $u) }`, {
        p: policy,
        u: `user/${user}`,
      }),
    );
  }
  return dataOf(
    await t.gql(`mutation ($u: String!) { createApiToken(principal: $u, description: "audit") { secret } }`, {
      u: `user/${user}`,
    }),
  ).createApiToken.secret;
}

it("records refused queries and subscriptions within a budget: one row per principal, operation and resource, with its occurrences", async () => {
  const reader = await tokenOf("reader", "ReadOnly");
  const code = (r: { errors?: Array<{ extensions?: { code?: unknown } }> }) =>
    r.errors?.[0]?.extensions?.code;
  // A ReadOnly user reads pipelines, and is refused the audit log and the agent tokens.
  expect(
    dataOf(await t.gql(`{ pipelines { nodes { name } } }`, {}, { token: reader })).pipelines.nodes,
  ).not.toEqual([]);
  for (let i = 0; i < 2; i++)
    expect(code(await t.gql(`{ auditEvents(first: 1) { nodes { id } } }`, {}, { token: reader }))).toBe(
      "FORBIDDEN",
    );
  expect(code(await t.gql(`{ agentTokens { id } }`, {}, { token: reader }))).toBe("FORBIDDEN");
  // A guarded field below a query the user may make: refused on its own.
  const nobody = await tokenOf("nobody", null);
  expect(code(await t.gql(`{ pipeline(name: "audited") { name } }`, {}, { token: nobody }))).toBe(
    "FORBIDDEN",
  );

  // A subscription refused over graphql-ws.
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${nobody}` },
    retryAttempts: 0,
  });
  const refusal = await new Promise<unknown>((resolve) =>
    client.subscribe(
      { query: `subscription { pipelineEvents(pipelineName: "audited") { type } }` },
      // Refused when subscribing: an answer with the error (or an error), then the end.
      { next: (answer) => resolve(answer), error: resolve, complete: () => resolve(null) },
    ),
  );
  expect(JSON.stringify(refusal)).toContain("FORBIDDEN");
  await client.dispose();

  // Counted, not yet written: the window's rows are written by flush() (every window, at shutdown).
  expect(dataOf(await t.gql(REFUSED, { principal: "user/reader" })).auditEvents.nodes).toEqual([]);
  expect(t.server.refusedReads.unwritten).toBeGreaterThanOrEqual(5);
  await t.server.refusedReads.flush();
  expect(t.server.refusedReads.unwritten).toBe(0);

  const rows = dataOf(await t.gql(REFUSED, { principal: "user/reader" })).auditEvents.nodes;
  expect(rows).toEqual(
    expect.arrayContaining([
      {
        principal: "user/reader",
        operation: "Query.auditEvents",
        target: "srn:sluice:default:audit",
        arguments: { action: "sluice:ReadAudit", resource: "srn:sluice:default:audit" },
        outcome: "FORBIDDEN",
        error: expect.stringContaining("sluice:ReadAudit"),
        occurrences: 2,
      },
      {
        principal: "user/reader",
        operation: "Query.agentTokens",
        target: "srn:sluice:default:agent-token",
        arguments: { action: "sluice:ManageAgents", resource: "srn:sluice:default:agent-token" },
        outcome: "FORBIDDEN",
        error: expect.stringContaining("sluice:ManageAgents"),
        occurrences: 1,
      },
    ]),
  );
  expect(rows).toHaveLength(2);
  const others = dataOf(await t.gql(REFUSED, { principal: "user/nobody" })).auditEvents.nodes;
  expect(others.map((r: any) => [r.operation, r.target, r.occurrences]).sort()).toEqual([
    ["Query.pipeline", "srn:sluice:default:pipeline/audited", 1],
    ["Subscription.pipelineEvents", "srn:sluice:default:pipeline/audited", 1],
  ]);
  // The anonymous query refused in the test before: its row too.
  const anonymous = dataOf(await t.gql(REFUSED, { principal: "anonymous", operation: "Query.pipelines" }))
    .auditEvents.nodes;
  expect(anonymous).toEqual([
    expect.objectContaining({ outcome: "UNAUTHENTICATED", target: "each pipeline" }),
  ]);

  // A burst of 1,000 refusals (20 at a time) is one row per window, standing for all of them.
  for (let sent = 0; sent < 1000; sent += 20) {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.gql(`{ agentTokens { id } }`, {}, { token: reader })),
    );
    expect(answers.map(code)).toEqual(Array(20).fill("FORBIDDEN"));
  }
  await t.server.refusedReads.flush();
  const burst = dataOf(await t.gql(REFUSED, { principal: "user/reader", operation: "Query.agentTokens" }))
    .auditEvents.nodes;
  expect(burst.map((r: any) => r.occurrences)).toEqual([1000, 1]);
});

it("keeps at most REFUSED_READ_KEYS resources a window: past them, one row stands for the rest", async () => {
  const nobody = dataOf(
    await t.gql(`mutation { createApiToken(principal: "user/nobody", description: "flood") { secret } }`),
  ).createApiToken.secret;
  await t.server.refusedReads.flush();
  const extra = 25;
  for (let sent = 0; sent < REFUSED_READ_KEYS + extra; sent += 25) {
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        t.gql(
          `query ($n: String!) { pipeline(name: $n) { name } }`,
          { n: `flood-${sent + i}` },
          { token: nobody },
        ),
      ),
    );
  }
  expect(await t.server.refusedReads.flush()).toBe(REFUSED_READ_KEYS + 1);
  const [counts] = await t.server.db.query(
    `SELECT count(*) FILTER (WHERE target = $1)::int AS "foldedRows",
            sum(occurrences) FILTER (WHERE target = $1)::int AS folded,
            count(*) FILTER (WHERE target LIKE 'srn:sluice:default:pipeline/flood-%')::int AS named
       FROM audit_events WHERE principal = 'user/nobody' AND operation = 'Query.pipeline'`,
    [FOLDED_RESOURCES],
  );
  expect(counts).toEqual({ foldedRows: 1, folded: extra, named: REFUSED_READ_KEYS });
});

it("counts refused HTTP reads the same way: one row per principal, route and resource per window", async () => {
  const nobody = dataOf(
    await t.gql(`mutation { createApiToken(principal: "user/nobody", description: "http") { secret } }`),
  ).createApiToken.secret;
  const base = t.url.replace(/\/graphql$/, "");
  await t.server.refusedReads.flush();
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${base}/version`, { headers: { authorization: `Bearer ${nobody}` } });
    expect(response.status).toBe(403);
  }
  expect((await fetch(`${base}/version`)).status).toBe(401);
  expect(await t.server.refusedReads.flush()).toBe(2);
  const rows = dataOf(await t.gql(REFUSED, { operation: "GET /version" })).auditEvents.nodes;
  expect(rows).toEqual([
    {
      principal: "anonymous",
      operation: "GET /version",
      target: "srn:sluice:default:installation",
      arguments: { action: "sluice:GetVersion", resource: "srn:sluice:default:installation" },
      outcome: "UNAUTHENTICATED",
      error: expect.stringMatching(/^A valid token is required/),
      occurrences: 1,
    },
    {
      principal: "user/nobody",
      operation: "GET /version",
      target: "srn:sluice:default:installation",
      arguments: { action: "sluice:GetVersion", resource: "srn:sluice:default:installation" },
      outcome: "FORBIDDEN",
      error: expect.stringContaining("sluice:GetVersion"),
      occurrences: 3,
    },
  ]);
});
