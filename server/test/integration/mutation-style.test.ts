/**
 * One mutation style, GitHub's (graphql/deprecations.ts, docs/graphql.md "Mutations"): every
 * mutation that is not deprecated takes exactly `input: <Name>Input!` (with an optional
 * clientMutationId) and answers `<Name>Payload!` (echoing it); every deprecated one names its
 * successors and the release that removes it, and still works, through the same authorization,
 * audit and implementation.
 */
import {
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLSchema,
} from "graphql";
import {
  DEPRECATED_MUTATIONS_REMOVED_IN,
  FIELD_LIST_SUCCESSORS,
  INPUT_STYLE_MUTATIONS,
  LIST_SUCCESSORS,
  MUTATION_SUCCESSORS,
} from "../../src/graphql/deprecations";
import { createSchema } from "../../src/graphql/schema";
import { operationPermissions } from "../../src/domain/policy/operations";
import { CREATE, simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type GraphQLResponse, type TestServer } from "../support/server";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await createSchema();
});

const mutations = () => Object.values(schema.getMutationType()!.getFields());
const baseName = (field: string) => field.replace(/V2$/, "").replace(/^./, (c) => c.toUpperCase());

/** What is wrong with a mutation's shape; [] when it is input + payload. */
function shapeProblems(field: GraphQLField<unknown, unknown>): string[] {
  const problems: string[] = [];
  const base = baseName(field.name);
  if (field.args.length !== 1 || field.args[0]!.name !== "input")
    problems.push(
      `takes (${field.args
        .map((a) => a.name)
        .sort()
        .join(", ")}), not (input)`,
    );
  const arg = field.args.find((a) => a.name === "input");
  const input = arg && isNonNullType(arg.type) ? arg.type.ofType : null;
  if (!input || !isInputObjectType(input) || input.name !== `${base}Input`) {
    problems.push(`input is ${arg ? String(arg.type) : "missing"}, not ${base}Input!`);
  } else {
    const id = input.getFields().clientMutationId;
    if (!id || isNonNullType(id.type) || getNamedType(id.type).name !== "String")
      problems.push(`${input.name} has no clientMutationId: String`);
  }
  const payload = isNonNullType(field.type) ? field.type.ofType : null;
  if (!payload || !isObjectType(payload) || payload.name !== `${base}Payload`) {
    problems.push(`answers ${String(field.type)}, not ${base}Payload!`);
  } else {
    const id = payload.getFields().clientMutationId;
    if (!id || isNonNullType(id.type) || getNamedType(id.type).name !== "String")
      problems.push(`${payload.name} has no clientMutationId: String`);
  }
  return problems;
}

describe("the schema's mutations", () => {
  it("are each input + payload, but the deprecated ones", () => {
    const found = mutations()
      .filter((f) => !f.deprecationReason)
      .map((f) => [f.name, shapeProblems(f)] as const)
      .filter(([, problems]) => problems.length > 0);
    expect(found).toEqual([]);
    expect(mutations().filter((f) => !f.deprecationReason).length).toBeGreaterThanOrEqual(52);
    // Each is registered as such (audit and authorization read its input): a successor of a
    // deprecated mutation, or one of NEW_MUTATIONS.
    expect(
      mutations()
        .filter((f) => !f.deprecationReason)
        .map((f) => f.name)
        .sort(),
    ).toEqual([...INPUT_STYLE_MUTATIONS].sort());
  });

  it("deprecate exactly the table's old names, each naming its successors and the release that removes it", () => {
    const deprecated = mutations().filter((f) => f.deprecationReason);
    expect(deprecated.map((f) => f.name).sort()).toEqual(Object.keys(MUTATION_SUCCESSORS).sort());
    const fields = schema.getMutationType()!.getFields();
    for (const field of deprecated) {
      const successors = MUTATION_SUCCESSORS[field.name as keyof typeof MUTATION_SUCCESSORS];
      const uses = successors.map((s) => `${s}(input:)`).join(" or ");
      expect([field.name, field.deprecationReason]).toEqual([
        field.name,
        `Use ${uses} instead; removed in ${DEPRECATED_MUTATIONS_REMOVED_IN}.`,
      ]);
      for (const successor of successors) {
        expect([successor, fields[successor]?.deprecationReason]).toEqual([successor, undefined]);
        expect([successor, INPUT_STYLE_MUTATIONS.has(successor)]).toEqual([successor, true]);
      }
    }
  });

  it("would catch a mutation of the old style that is not deprecated", () => {
    const old = schema.getMutationType()!.getFields().releaseChange!;
    expect(shapeProblems(old)).toEqual([
      "takes (clientRequestToken, pipelineName, sourceRevisions, variables), not (input)",
      "input is missing, not ReleaseChangeInput!",
      "answers PipelineExecution!, not ReleaseChangePayload!",
    ]);
  });

  it("read their permission from input, as the mutation they replace reads its arguments", () => {
    for (const name of INPUT_STYLE_MUTATIONS) {
      const permission = operationPermissions[`Mutation.${name}` as keyof typeof operationPermissions];
      expect([name, permission && "argsFrom" in permission ? permission.argsFrom : null]).toEqual([
        name,
        "input",
      ]);
    }
  });
});

/** The lists of objects on Query that are plain arrays (not connections). */
function plainLists(withDeprecated: boolean): string[] {
  return Object.values(schema.getQueryType()!.getFields())
    .filter((f) => withDeprecated || !f.deprecationReason)
    .filter((f) => {
      const type = isNonNullType(f.type) ? f.type.ofType : f.type;
      return isListType(type) && isObjectType(getNamedType(type));
    })
    .map((f) => f.name)
    .sort();
}

describe("the schema's lists", () => {
  it("page every list of Query as a connection, but the deprecated arrays they replace", () => {
    // node(ids) answers at most 100 given ids (an interface list, not counted here); every other
    // list of objects can grow.
    expect(plainLists(false)).toEqual([]);
    expect(plainLists(true)).toEqual(Object.keys(LIST_SUCCESSORS).sort());
    const fields = schema.getQueryType()!.getFields();
    for (const [old, successor] of Object.entries(LIST_SUCCESSORS)) {
      const connection = getNamedType(fields[successor]!.type);
      expect([successor, isObjectType(connection) && Object.keys(connection.getFields()).sort()]).toEqual([
        successor,
        ["edges", "nodes", "pageInfo", "totalCount"],
      ]);
      expect([successor, fields[successor]!.args.map((a) => a.name).sort()]).toEqual([
        successor,
        [...fields[old]!.args.map((a) => a.name), "after", "before", "first", "last"].sort(),
      ]);
      expect(fields[old]!.deprecationReason).toBe(
        `Use ${successor} (a connection: first/after/last/before) instead; removed in ${DEPRECATED_MUTATIONS_REMOVED_IN}.`,
      );
    }
    // Lists inside objects that can grow, the same way.
    for (const [field, successor] of Object.entries(FIELD_LIST_SUCCESSORS)) {
      const [typeName, name] = field.split(".") as [string, string];
      const type = schema.getType(typeName);
      if (!type || !isObjectType(type)) throw new Error(`no ${typeName}`);
      expect(type.getFields()[name]!.deprecationReason).toMatch(
        new RegExp(`^Use ${successor} \\(a connection`),
      );
      const connection = getNamedType(type.getFields()[successor]!.type);
      expect(isObjectType(connection) && Object.keys(connection.getFields()).sort()).toEqual([
        "edges",
        "nodes",
        "pageInfo",
        "totalCount",
      ]);
    }
  });
});

describe("a mutation of the new style, end to end", () => {
  let t: TestServer;
  let reader: string;
  const codeOf = (r: GraphQLResponse) => r.errors?.[0]?.extensions?.code;

  beforeAll(async () => {
    t = await startTestServer();
    dataOf(await t.gql(CREATE, { input: simplePipeline("styled") }));
    // A reader of everything, who may change nothing.
    dataOf(
      await t.gql(
        `mutation { createUserV2(input: { name: "rhea", clientMutationId: "u1" }) { clientMutationId user { name } } }`,
      ),
    );
    dataOf(
      await t.gql(
        `mutation { attachPolicyV2(input: { policyName: "ReadOnly", principal: "user/rhea" }) { changed } }`,
      ),
    );
    reader = dataOf(
      await t.gql(
        `mutation { createApiTokenV2(input: { principal: "user/rhea", description: "style" }) { secret } }`,
      ),
    ).createApiTokenV2.secret;
  });
  afterAll(async () => {
    await t.stop();
  });

  const auditOf = async (operation: string) =>
    dataOf(
      await t.gql(
        `query ($o: String!) { auditEvents(first: 10, operation: $o) { nodes { operation principal pipelineName target outcome arguments } } }`,
        { o: operation },
      ),
    ).auditEvents.nodes;

  it("echoes clientMutationId, holds what changed, and is audited with what it names", async () => {
    const START = `mutation ($input: StartPipelineExecutionInput!) {
      startPipelineExecution(input: $input) { clientMutationId pipelineExecution { id pipelineName trigger { triggerType } } } }`;
    const started = dataOf(
      await t.gql(START, { input: { pipelineName: "styled", clientMutationId: "run-42" } }),
    ).startPipelineExecution;
    expect(started).toMatchObject({
      clientMutationId: "run-42",
      pipelineExecution: { pipelineName: "styled", trigger: { triggerType: "StartPipelineExecution" } },
    });
    // Without one, null.
    const again = dataOf(await t.gql(START, { input: { pipelineName: "styled" } })).startPipelineExecution;
    expect(again.clientMutationId).toBeNull();

    const STOP = `mutation ($id: ID!) { stopPipelineExecution(input: { executionId: $id, abandon: true, clientMutationId: "stop-1" }) {
      clientMutationId pipelineExecution { id status } } }`;
    // The newest one runs (the pipeline's executions supersede each other).
    const stopped = dataOf(await t.gql(STOP, { id: again.pipelineExecution.id })).stopPipelineExecution;
    expect(stopped.clientMutationId).toBe("stop-1");
    expect(stopped.pipelineExecution.id).toBe(again.pipelineExecution.id);

    const [row] = await auditOf("startPipelineExecution");
    expect(row).toMatchObject({ operation: "startPipelineExecution", pipelineName: "styled", outcome: "ok" });
    expect(row.arguments).toMatchObject({ input: { pipelineName: "styled" } });
    const [stop] = await auditOf("stopPipelineExecution");
    expect(stop).toMatchObject({
      pipelineName: "styled",
      target: `executionId=${again.pipelineExecution.id}`,
      outcome: "ok",
    });
  });

  it("refuses a caller without the permission, as the old mutation does, and audits the refusal", async () => {
    const newStyle = await t.gql(
      `mutation { createGroupV2(input: { name: "ops", clientMutationId: "g" }) { group { name } } }`,
      {},
      { token: reader },
    );
    const oldStyle = await t.gql(`mutation { createGroup(name: "ops") { name } }`, {}, { token: reader });
    expect([codeOf(newStyle), codeOf(oldStyle)]).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    expect(newStyle.errors?.[0]?.message).toBe(oldStyle.errors?.[0]?.message);
    expect(newStyle.errors?.[0]?.message).toMatch(/sluice:ManageIdentity on srn:sluice:default:group\/ops/);

    // The same for one decided on a looked-up resource (the execution's pipeline), and for the
    // transition split into enable/disable (each its own action).
    const execution = dataOf(
      await t.gql(
        `mutation { startPipelineExecution(input: { pipelineName: "styled" }) { pipelineExecution { id } } }`,
      ),
    ).startPipelineExecution.pipelineExecution.id;
    const retry = await t.gql(
      `mutation ($id: ID!) { retryStageExecution(input: { executionId: $id, stageName: "Build" }) { clientMutationId } }`,
      { id: execution },
      { token: reader },
    );
    expect(codeOf(retry)).toBe("FORBIDDEN");
    const disable = await t.gql(
      `mutation { disableStageTransition(input: { pipelineName: "styled", stageName: "Build", reason: "x" }) { clientMutationId } }`,
      {},
      { token: reader },
    );
    expect([codeOf(disable), disable.errors?.[0]?.message]).toEqual([
      "FORBIDDEN",
      "You are not allowed sluice:DisableStageTransition on srn:sluice:default:pipeline/styled/stage/Build.",
    ]);

    const refused = await auditOf("createGroupV2");
    expect(refused).toEqual([
      expect.objectContaining({ principal: "user/rhea", outcome: "FORBIDDEN", operation: "createGroupV2" }),
    ]);
    // Nothing was made.
    const groups = dataOf(await t.gql(`{ groups { name } }`)).groups;
    expect(groups.map((g: { name: string }) => g.name)).not.toContain("ops");
  });

  it("keeps the old mutation working during the deprecation period, on the same implementation", async () => {
    const old = dataOf(
      await t.gql(`mutation { toggleTransition(pipelineName: "styled", stageName: "Build", enabled: false, reason: "freeze") {
        stageName enabled disabledReason } }`),
    ).toggleTransition;
    expect(old).toEqual({ stageName: "Build", enabled: false, disabledReason: "freeze" });
    const enabled = dataOf(
      await t.gql(`mutation { enableStageTransition(input: { pipelineName: "styled", stageName: "Build", clientMutationId: "open" }) {
        clientMutationId transition { stageName enabled disabledReason } } }`),
    ).enableStageTransition;
    expect(enabled).toEqual({
      clientMutationId: "open",
      transition: { stageName: "Build", enabled: true, disabledReason: null },
    });
    // Each is audited once, under its own name.
    expect((await auditOf("toggleTransition")).length).toBe(1);
    expect((await auditOf("enableStageTransition")).length).toBe(1);

    const created = dataOf(await t.gql(`mutation { createGroup(name: "old-style") { name members } }`));
    expect(created.createGroup).toEqual({ name: "old-style", members: [] });
    const twice = await t.gql(`mutation { createGroupV2(input: { name: "old-style" }) { group { name } } }`);
    expect(codeOf(twice)).toBe(codeOf(await t.gql(`mutation { createGroup(name: "old-style") { name } }`)));
  });

  it("pages a list that was an array, forward and backward, with the old array still answering", async () => {
    for (const name of ["page-a", "page-b", "page-c"])
      dataOf(
        await t.gql(`mutation ($n: String!) { createGroupV2(input: { name: $n }) { group { name } } }`, {
          n: name,
        }),
      );
    const GROUPS = `query ($first: Int, $after: String, $last: Int, $before: String) {
      groupsV2(first: $first, after: $after, last: $last, before: $before) {
        totalCount edges { cursor node { name } } nodes { name } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
    const page = async (variables: Record<string, unknown>) =>
      dataOf(await t.gql(GROUPS, variables)).groupsV2;
    const all = (await page({ first: 100 })).nodes.map((g: { name: string }) => g.name);
    const old = dataOf(await t.gql(`{ groups { name } }`)).groups.map((g: { name: string }) => g.name);
    expect([...all].sort()).toEqual([...old].sort());
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(["page-a", "page-b", "page-c"]));

    const forward: string[] = [];
    let after: string | null = null;
    for (;;) {
      const p: any = await page({ first: 2, after });
      expect(p.totalCount).toBe(all.length);
      expect(p.nodes).toEqual(p.edges.map((e: any) => e.node));
      expect(p.pageInfo.endCursor).toBe(p.edges.at(-1).cursor);
      forward.push(...p.nodes.map((n: { name: string }) => n.name));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(forward).toEqual(all);
    const last = await page({ last: 2 });
    expect(last.nodes.map((n: { name: string }) => n.name)).toEqual(all.slice(-2));
    expect(last.pageInfo.hasPreviousPage).toBe(all.length > 2);
    const before = await page({ last: 100, before: last.pageInfo.startCursor });
    expect(before.nodes.map((n: { name: string }) => n.name)).toEqual(all.slice(0, -2));

    const bad = await t.gql(GROUPS, { after: "not-a-cursor" });
    expect([codeOf(bad), (bad.errors?.[0]?.extensions?.validationErrors as any)?.[0]?.path]).toEqual([
      "BAD_USER_INPUT",
      "after",
    ]);
    // A group's members, paged the same way.
    for (const userName of ["mia", "noa"]) {
      dataOf(
        await t.gql(`mutation ($n: String!) { createUserV2(input: { name: $n }) { user { name } } }`, {
          n: userName,
        }),
      );
      dataOf(
        await t.gql(
          `mutation ($n: String!) { addUserToGroupV2(input: { groupName: "page-b", userName: $n }) { changed } }`,
          { n: userName },
        ),
      );
    }
    const MEMBERS = `query ($after: String) { groupsV2(first: 100) { nodes { name
      membersV2(first: 1, after: $after) { totalCount nodes { userName } pageInfo { hasNextPage endCursor } } } } }`;
    const membersOf = async (after: string | null) =>
      dataOf(await t.gql(MEMBERS, { after })).groupsV2.nodes.find(
        (g: { name: string }) => g.name === "page-b",
      ).membersV2;
    const firstMember = await membersOf(null);
    expect(firstMember).toMatchObject({
      totalCount: 2,
      nodes: [{ userName: "mia" }],
      pageInfo: { hasNextPage: true },
    });
    const secondMember = await membersOf(firstMember.pageInfo.endCursor);
    expect(secondMember).toMatchObject({ nodes: [{ userName: "noa" }], pageInfo: { hasNextPage: false } });

    // The same authorization as the array: a reader who may not manage identities gets none.
    expect(codeOf(await t.gql(`{ groupsV2 { totalCount } }`, {}, { token: reader }))).toBe(
      codeOf(await t.gql(`{ groups { name } }`, {}, { token: reader })),
    );
  });

  it("answers bad input as BAD_USER_INPUT, not a 5xx", async () => {
    const missing = await t.gql(
      `mutation ($i: CreateGroupInput!) { createGroupV2(input: $i) { clientMutationId } }`,
      {
        i: {},
      },
    );
    expect(codeOf(missing)).toBe("BAD_USER_INPUT");
    const wrongType = await t.gql(`mutation ($i: SignOutInput!) { signOutV2(input: $i) { signedOut } }`, {
      i: { clientMutationId: 3 },
    });
    expect(codeOf(wrongType)).toBe("BAD_USER_INPUT");
    // A domain refusal inside input: its own code, as the old mutation's.
    const stop = await t.gql(
      `mutation { stopPipelineExecution(input: { executionId: "no-such-execution" }) { clientMutationId } }`,
    );
    expect(codeOf(stop)).toBe("NOT_FOUND");
  });
});
