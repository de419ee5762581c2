/**
 * GitHub's conventions on the GraphQL API: global ids with node/nodes (through the one checker:
 * a hidden node answers as an unknown id does), and connections paged forward and backward with
 * totalCount, bad cursors refused as BAD_USER_INPUT.
 */
import { CREATE, simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type GraphQLResponse, type TestServer } from "../support/server";

let t: TestServer;
let reader: string;
beforeAll(async () => {
  t = await startTestServer();
  for (const name of ["visible", "hidden"]) dataOf(await t.gql(CREATE, { input: simplePipeline(name) }));
  // A user who may read one pipeline, and nothing else.
  dataOf(
    await t.gql(`mutation ($d: JSONObject!) { putPolicy(name: "visible-only", document: $d) { name } }`, {
      d: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["sluice:Get*", "sluice:List*"],
            Resource: ["srn:sluice:default:pipeline/visible", "srn:sluice:default:pipeline/visible/*"],
          },
        ],
      },
    }),
  );
  dataOf(await t.gql(`mutation { createUser(name: "vera") { name } }`));
  dataOf(await t.gql(`mutation { attachPolicy(policyName: "visible-only", principal: "user/vera") }`));
  reader = dataOf(
    await t.gql(`mutation { createApiToken(principal: "user/vera", description: "tests") { secret } }`),
  ).createApiToken.secret;
});
afterAll(async () => {
  await t.stop();
});

const codeOf = (r: GraphQLResponse) => r.errors?.[0]?.extensions?.code;
const pathOf = (r: GraphQLResponse) =>
  (r.errors?.[0]?.extensions?.validationErrors as Array<{ path: string }> | undefined)?.[0]?.path;

const NODE = `query ($id: ID!) { node(id: $id) { __typename nodeId
  ... on Pipeline { name } ... on PipelineExecution { id pipelineName }
  ... on StageExecution { name } ... on ActionExecution { name } ... on ActionAttempt { id }
  ... on PipelineVersion { version } ... on AuditEvent { operation } ... on Policy { name }
  ... on ActionTypeDeclaration { typeId: id { provider } } ... on ApiToken { principal } } }`;

const nodeOf = async (id: string, token?: string) =>
  dataOf(await t.gql(NODE, { id }, token ? { token } : undefined)).node;

describe("global ids", () => {
  it("gives each object a nodeId that node(id) answers with the same object", async () => {
    const { pipeline } = dataOf(
      await t.gql(`{ pipeline(name: "visible") { nodeId name
          versions(first: 1) { nodes { nodeId version } }
          executions(first: 1) { nodes { nodeId id stages { nodeId name actions { nodeId name attempts { nodeId id } } } } } } }`),
    );
    expect(await nodeOf(pipeline.nodeId)).toEqual({
      __typename: "Pipeline",
      nodeId: pipeline.nodeId,
      name: "visible",
    });
    const version = pipeline.versions.nodes[0];
    expect(await nodeOf(version.nodeId)).toEqual({
      __typename: "PipelineVersion",
      nodeId: version.nodeId,
      version: 1,
    });
    const execution = pipeline.executions.nodes[0];
    expect(await nodeOf(execution.nodeId)).toEqual({
      __typename: "PipelineExecution",
      nodeId: execution.nodeId,
      id: execution.id,
      pipelineName: "visible",
    });
    const stage = execution.stages[0];
    expect(await nodeOf(stage.nodeId)).toEqual({
      __typename: "StageExecution",
      nodeId: stage.nodeId,
      name: "Source",
    });
    const action = stage.actions[0];
    expect(await nodeOf(action.nodeId)).toEqual({
      __typename: "ActionExecution",
      nodeId: action.nodeId,
      name: "Checkout",
    });
    const attempt = action.attempts[0];
    expect(await nodeOf(attempt.nodeId)).toEqual({
      __typename: "ActionAttempt",
      nodeId: attempt.nodeId,
      id: attempt.id,
    });

    // Ids are opaque, distinct across types, and stable between requests.
    const ids = [
      pipeline.nodeId,
      version.nodeId,
      execution.nodeId,
      stage.nodeId,
      action.nodeId,
      attempt.nodeId,
    ];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(dataOf(await t.gql(`{ pipeline(name: "visible") { nodeId } }`)).pipeline.nodeId).toBe(
      pipeline.nodeId,
    );

    const policy = dataOf(await t.gql(`{ policies { nodeId name } }`)).policies.find(
      (p: { name: string }) => p.name === "visible-only",
    );
    expect(await nodeOf(policy.nodeId)).toEqual({
      __typename: "Policy",
      nodeId: policy.nodeId,
      name: "visible-only",
    });
    const audit = dataOf(await t.gql(`{ auditEvents(first: 1) { nodes { nodeId operation } } }`)).auditEvents
      .nodes[0];
    expect(await nodeOf(audit.nodeId)).toEqual({ __typename: "AuditEvent", ...audit });
    const type = dataOf(await t.gql(`{ actionTypes(category: "Build") { nodeId typeId: id { provider } } }`))
      .actionTypes[0];
    expect(await nodeOf(type.nodeId)).toEqual({ __typename: "ActionTypeDeclaration", ...type });
    const token = dataOf(await t.gql(`{ apiTokens(principal: "user/vera") { nodeId principal } }`))
      .apiTokens[0];
    expect(await nodeOf(token.nodeId)).toEqual({ __typename: "ApiToken", ...token });
  });

  it("answers null for an unknown, malformed or hidden id alike, through node and nodes", async () => {
    const ids = dataOf(
      await t.gql(`{ v: pipeline(name: "visible") { nodeId executions(first: 1) { nodes { nodeId } } }
                     h: pipeline(name: "hidden") { nodeId executions(first: 1) { nodes { nodeId stages { nodeId } } } } }`),
    );
    const hidden = [
      ids.h.nodeId,
      ids.h.executions.nodes[0].nodeId,
      ids.h.executions.nodes[0].stages[0].nodeId,
    ];
    const audit = dataOf(await t.gql(`{ auditEvents(first: 1) { nodes { nodeId } } }`)).auditEvents.nodes[0]
      .nodeId;
    // An unknown pipeline's id, made the way the server makes them, and strings that are no id.
    const unknown = Buffer.from("Pipeline:nope").toString("base64url");
    const garbage = ["", "Pipeline:visible", "!!!", Buffer.from("Nothing:x").toString("base64url")];

    expect((await nodeOf(ids.v.nodeId, reader)).name).toBe("visible");
    expect(await nodeOf(ids.v.executions.nodes[0].nodeId, reader)).toMatchObject({
      __typename: "PipelineExecution",
    });
    const answers: GraphQLResponse[] = [];
    for (const id of [...hidden, audit, unknown, ...garbage]) {
      answers.push(await t.gql(NODE, { id }, { token: reader }));
    }
    // The same answer, byte for byte: no error, no hint that the hidden ones exist.
    const expected = JSON.stringify({ data: { node: null } });
    expect(
      answers.map((a) =>
        JSON.stringify({ data: a.data, errors: a.errors }).replace(',"errors":undefined', ""),
      ),
    ).toEqual(answers.map(() => expected));
    // The admin reads the hidden ones.
    expect((await nodeOf(hidden[0]!)).name).toBe("hidden");

    const many = dataOf(
      await t.gql(
        `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename nodeId } }`,
        {
          ids: [ids.v.nodeId, ...hidden, unknown, "!!!"],
        },
        { token: reader },
      ),
    ).nodes;
    expect(many).toEqual([{ __typename: "Pipeline", nodeId: ids.v.nodeId }, null, null, null, null, null]);

    const tooMany = await t.gql(`query ($ids: [ID!]!) { nodes(ids: $ids) { nodeId } }`, {
      ids: Array.from({ length: 101 }, () => ids.v.nodeId),
    });
    expect([codeOf(tooMany), pathOf(tooMany)]).toEqual(["BAD_USER_INPUT", "ids"]);
  });
});

describe("global ids of agents' tokens and notifications", () => {
  it("answers them to whoever may list them, and null to a reader of one pipeline", async () => {
    const token = dataOf(
      await t.gql(`mutation { createAgentToken(description: "conv") { agentToken { nodeId id } } }`),
    ).createAgentToken.agentToken;
    const target = dataOf(
      await t.gql(
        `mutation { createNotificationTarget(target: { name: "conv-bus", kind: NATS, subject: "conv.tests" }) { nodeId id } }`,
      ),
    ).createNotificationTarget;
    const rule = dataOf(
      await t.gql(
        `mutation ($t: ID!) { createNotificationRule(rule: { name: "conv-rule", eventTypes: [EXECUTION_FAILED], targetIds: [$t] }) { nodeId id } }`,
        {
          t: target.id,
        },
      ),
    ).createNotificationRule;
    const [delivery] = dataOf(
      await t.gql(`mutation ($r: ID!) { testNotificationRule(id: $r) { nodeId id } }`, { r: rule.id }),
    ).testNotificationRule;
    const NODES = `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename nodeId
      ... on AgentToken { id } ... on NotificationTarget { id } ... on NotificationRule { id } ... on NotificationDelivery { id } } }`;
    const ids = [token.nodeId, target.nodeId, rule.nodeId, delivery.nodeId];
    expect(dataOf(await t.gql(NODES, { ids })).nodes).toEqual([
      { __typename: "AgentToken", ...token },
      { __typename: "NotificationTarget", ...target },
      { __typename: "NotificationRule", ...rule },
      { __typename: "NotificationDelivery", ...delivery },
    ]);
    expect(dataOf(await t.gql(NODES, { ids }, { token: reader })).nodes).toEqual([null, null, null, null]);
  });
});

describe("connections", () => {
  const EXECUTIONS = `query ($first: Int, $after: String, $last: Int, $before: String) {
    pipeline(name: "paged") { executions(first: $first, after: $after, last: $last, before: $before) {
      totalCount edges { cursor node { id } } nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`;
  const page = async (variables: Record<string, unknown>) =>
    dataOf(await t.gql(EXECUTIONS, variables)).pipeline.executions;

  let newestFirst: string[];
  beforeAll(async () => {
    // PARALLEL: nothing supersedes; 1 execution from the creation, then 6 more.
    dataOf(await t.gql(CREATE, { input: simplePipeline("paged", { executionMode: "PARALLEL" }) }));
    for (let i = 0; i < 6; i++)
      dataOf(await t.gql(`mutation { releaseChange(pipelineName: "paged") { id } }`));
    newestFirst = (await page({ first: 100 })).nodes.map((n: { id: string }) => n.id);
  });

  it("pages forward and backward across page boundaries, with totalCount on every page", async () => {
    expect(newestFirst).toHaveLength(7);

    const forward: string[] = [];
    let after: string | null = null;
    const seen: boolean[] = [];
    for (;;) {
      const p: any = await page({ first: 3, after });
      expect(p.totalCount).toBe(7);
      expect(p.nodes).toEqual(p.edges.map((e: any) => e.node));
      expect(p.pageInfo.startCursor).toBe(p.edges[0].cursor);
      expect(p.pageInfo.endCursor).toBe(p.edges.at(-1).cursor);
      expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
      forward.push(...p.nodes.map((n: { id: string }) => n.id));
      seen.push(p.pageInfo.hasNextPage);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(forward).toEqual(newestFirst);
    expect(seen).toEqual([true, true, false]);

    // Backward from the end: the last 3, then the 3 before them, then the first one.
    const backward: string[][] = [];
    let before: string | null = null;
    for (;;) {
      const p: any = await page({ last: 3, before });
      expect(p.totalCount).toBe(7);
      expect(p.pageInfo.hasNextPage).toBe(before !== null);
      backward.push(p.nodes.map((n: { id: string }) => n.id));
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor;
    }
    expect(backward).toEqual([newestFirst.slice(4), newestFirst.slice(1, 4), newestFirst.slice(0, 1)]);

    // A cursor from one direction works in the other: the page before the 4th is the first 3.
    const fourth = (await page({ first: 4 })).edges[3].cursor;
    expect((await page({ last: 10, before: fourth })).nodes.map((n: any) => n.id)).toEqual(
      newestFirst.slice(0, 3),
    );
    expect((await page({ first: 10, after: fourth })).nodes.map((n: any) => n.id)).toEqual(
      newestFirst.slice(4),
    );
  });

  it("counts only what the caller may list, and pages backward through pipelines and versions", async () => {
    const LIST = `query ($last: Int, $before: String) { pipelines(last: $last, before: $before) {
      totalCount nodes { name } pageInfo { hasPreviousPage startCursor } } }`;
    const all = dataOf(await t.gql(`{ pipelines(first: 100) { totalCount nodes { name } } }`)).pipelines;
    expect(all.totalCount).toBe(3);
    const mine = dataOf(
      await t.gql(`{ pipelines { totalCount nodes { name } } }`, {}, { token: reader }),
    ).pipelines;
    expect(mine).toEqual({ totalCount: 1, nodes: [{ name: "visible" }] });

    const last = dataOf(await t.gql(LIST, { last: 2 })).pipelines;
    expect(last.nodes).toEqual(all.nodes.slice(1));
    expect(last.pageInfo.hasPreviousPage).toBe(true);
    const before = dataOf(await t.gql(LIST, { last: 2, before: last.pageInfo.startCursor })).pipelines;
    expect(before.nodes).toEqual(all.nodes.slice(0, 1));
    expect(before.pageInfo.hasPreviousPage).toBe(false);

    for (const mode of ["QUEUED", "SUPERSEDED"]) {
      dataOf(
        await t.gql(
          `mutation ($input: PipelineInput!, $v: Int!) { updatePipeline(input: $input, expectedVersion: $v) { version } }`,
          {
            input: simplePipeline("visible", { executionMode: mode }),
            v: mode === "QUEUED" ? 1 : 2,
          },
        ),
      );
    }
    const versions = dataOf(
      await t.gql(
        `{ pipeline(name: "visible") { versions(last: 2) { totalCount nodes { version } pageInfo { hasPreviousPage hasNextPage } } } }`,
      ),
    ).pipeline.versions;
    expect(versions).toEqual({
      totalCount: 3,
      nodes: [{ version: 2 }, { version: 1 }],
      pageInfo: { hasPreviousPage: true, hasNextPage: false },
    });
  });

  it("pages the audit log backward with its filters in totalCount", async () => {
    const AUDIT = `query ($first: Int, $last: Int, $before: String) {
      auditEvents(first: $first, last: $last, before: $before, operation: "releaseChange") {
        totalCount nodes { id } pageInfo { startCursor hasPreviousPage } } }`;
    const all = dataOf(await t.gql(AUDIT, { first: 100 })).auditEvents;
    expect(all.totalCount).toBe(6);
    const last = dataOf(await t.gql(AUDIT, { last: 4 })).auditEvents;
    expect(last.nodes).toEqual(all.nodes.slice(2));
    expect(last.totalCount).toBe(6);
    const rest = dataOf(await t.gql(AUDIT, { last: 4, before: last.pageInfo.startCursor })).auditEvents;
    expect(rest.nodes).toEqual(all.nodes.slice(0, 2));
    expect(rest.pageInfo.hasPreviousPage).toBe(false);
  });

  it("refuses bad cursors and mixed directions as BAD_USER_INPUT at the argument", async () => {
    const forged = Buffer.from(JSON.stringify(["yesterday", "x"])).toString("base64url");
    for (const [variables, path] of [
      [{ after: "not-a-cursor" }, "after"],
      [{ last: 2, before: "not-a-cursor" }, "before"],
      [{ before: forged }, "before"],
      [{ first: 2, last: 2 }, "first"],
      [{ last: 0 }, "last"],
      [{ last: 101 }, "last"],
    ] as const) {
      const answer = await t.gql(EXECUTIONS, variables);
      expect([variables, codeOf(answer), pathOf(answer)]).toEqual([variables, "BAD_USER_INPUT", path]);
    }
    const audit = await t.gql(`{ auditEvents(last: 1, before: "bm9wZQ") { nodes { id } } }`);
    expect([codeOf(audit), pathOf(audit)]).toEqual(["BAD_USER_INPUT", "before"]);
    const deliveries = await t.gql(`{ notificationDeliveries(before: "bm9wZQ") { nodes { id } } }`);
    expect([codeOf(deliveries), pathOf(deliveries)]).toEqual(["BAD_USER_INPUT", "before"]);
  });
});

describe("closed sets as enums", () => {
  it("types statuses, trigger types, event types and waiting codes as enums, with the values they always had", async () => {
    const fieldType = async (type: string, field: string) => {
      const { __type } = dataOf(
        await t.gql(
          `query ($t: String!) { __type(name: $t) { fields { name type { kind name ofType { kind name } } } } }`,
          {
            t: type,
          },
        ),
      );
      const found = __type.fields.find((f: { name: string }) => f.name === field).type;
      const named = found.kind === "NON_NULL" ? found.ofType : found;
      return { kind: named.kind, name: named.name };
    };
    for (const [type, field, enumName] of [
      ["PipelineExecution", "status", "PipelineExecutionStatus"],
      ["StageExecution", "status", "StageExecutionStatus"],
      ["ActionExecution", "status", "ActionExecutionStatus"],
      ["ActionAttempt", "status", "ActionExecutionStatus"],
      ["ExecutionTrigger", "triggerType", "TriggerType"],
      ["WaitingReason", "code", "WaitingReasonCode"],
      ["PipelineEvent", "type", "PipelineEventType"],
    ]) {
      expect([type, field, await fieldType(type!, field!)]).toEqual([
        type,
        field,
        { kind: "ENUM", name: enumName },
      ]);
    }
    const { pipeline } = dataOf(
      await t.gql(`{ pipeline(name: "paged") { executions(first: 1, status: [InProgress]) {
        totalCount nodes { status trigger { triggerType } events { type } } } } }`),
    );
    expect(pipeline.executions.totalCount).toBe(7);
    expect(pipeline.executions.nodes[0]).toMatchObject({
      status: "InProgress",
      trigger: { triggerType: "StartPipelineExecution" },
      events: expect.arrayContaining([{ type: "EXECUTION_STARTED" }]),
    });
    const failed = dataOf(
      await t.gql(
        `query ($s: [PipelineExecutionStatus!]) { pipeline(name: "paged") { executions(status: $s) { totalCount } } }`,
        { s: ["Failed"] },
      ),
    );
    expect(failed.pipeline.executions.totalCount).toBe(0);
    const bogus = await t.gql(
      `query ($s: [PipelineExecutionStatus!]) { pipeline(name: "paged") { executions(status: $s) { totalCount } } }`,
      { s: ["Bogus"] },
    );
    expect(codeOf(bogus)).toBe("BAD_USER_INPUT");
  });
});
