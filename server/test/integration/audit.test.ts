/**
 * The audit log: every mutation with who, what and how it went, newest first, filterable, with
 * secrets and documents kept out.
 */
import { REFUSALS_PER_MINUTE } from "../../src/graphql/audit";
import { CREATE, simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
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

it("records mutations refused for a missing token, within a budget, and not queries", async () => {
  const refused = await t.gql(
    `mutation { toggleTransition(pipelineName: "audited", stageName: "Build", enabled: false, reason: "sneaky") { enabled } }`,
    undefined,
    { token: null },
  );
  expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  const query = await t.gql(`{ pipelines { nodes { name } } }`, undefined, { token: "not-a-token" });
  expect(query.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

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
