/**
 * Tags on pipelines, as CodePipeline has them: set at creation, changed with tagResource and
 * untagResource, read with listTagsForResource and Pipeline.tags, a filter of `pipelines`, and
 * carried by the installation archive. Real PostgreSQL and NATS (support/server.ts).
 */
import { simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type GraphQLResponse, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const SRN = (name: string) => `srn:sluice:default:pipeline/${name}`;

const CREATE_TAGGED = `mutation ($input: PipelineInput!, $tags: [TagInput!]) {
  createPipeline(input: $input, tags: $tags) { name srn tags { key value } } }`;
const TAG = `mutation ($r: String!, $tags: [TagInput!]!) {
  tagResource(resourceArn: $r, tags: $tags) { resourceArn tags { key value } } }`;
const UNTAG = `mutation ($r: String!, $keys: [String!]!) {
  untagResource(resourceArn: $r, tagKeys: $keys) { resourceArn tags { key value } } }`;
const LIST = `query ($r: String!) { listTagsForResource(resourceArn: $r) { resourceArn tags { key value } } }`;
const PIPELINES = `query ($tag: TagFilterInput, $first: Int, $after: String, $last: Int, $before: String) {
  pipelines(tag: $tag, first: $first, after: $after, last: $last, before: $before) {
    totalCount nodes { name tags { key value } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code;
const pathsOf = (response: GraphQLResponse) =>
  ((response.errors?.[0]?.extensions?.validationErrors ?? []) as Array<{ path: string }>).map((e) => e.path);

async function tagsOf(name: string, server = t) {
  return dataOf(await server.gql(LIST, { r: SRN(name) })).listTagsForResource.tags;
}

async function create(name: string, tags: Array<{ key: string; value: string }> = []) {
  return dataOf(await t.gql(CREATE_TAGGED, { input: simplePipeline(name), tags })).createPipeline;
}

describe("createPipeline(tags)", () => {
  it("stores the tags with the pipeline; Pipeline.tags and listTagsForResource show them by key", async () => {
    const created = await create("tagged", [
      { key: "team", value: "payments" },
      { key: "env", value: "" },
    ]);
    expect(created).toEqual({
      name: "tagged",
      srn: SRN("tagged"),
      tags: [
        { key: "env", value: "" },
        { key: "team", value: "payments" },
      ],
    });
    expect(dataOf(await t.gql(LIST, { r: SRN("tagged") })).listTagsForResource).toEqual({
      resourceArn: SRN("tagged"),
      tags: [
        { key: "env", value: "" },
        { key: "team", value: "payments" },
      ],
    });
  });

  it("refuses bad tags with BAD_USER_INPUT and the path of each, and creates nothing", async () => {
    const response = await t.gql(CREATE_TAGGED, {
      input: simplePipeline("badly-tagged"),
      tags: [
        { key: "aws:owner", value: "x" },
        { key: "ok", value: "v".repeat(257) },
        { key: "", value: "x" },
        { key: "ok", value: "again" },
      ],
    });
    expect(codeOf(response)).toBe("BAD_USER_INPUT");
    expect(pathsOf(response)).toEqual(["tags[0].key", "tags[1].value", "tags[2].key", "tags[3].key"]);
    expect(dataOf(await t.gql(`{ pipeline(name: "badly-tagged") { name } }`)).pipeline).toBeNull();
  });

  it("reports the document's problems and the tags' together", async () => {
    const bad = simplePipeline("bad-both");
    bad.stages[0].name = "has space";
    const response = await t.gql(CREATE_TAGGED, { input: bad, tags: [{ key: "sluice:x", value: "" }] });
    expect(codeOf(response)).toBe("BAD_USER_INPUT");
    expect(pathsOf(response)).toEqual(expect.arrayContaining(["stages[0].name", "tags[0].key"]));
  });

  it("takes at most 50 tags", async () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    const over = await t.gql(CREATE_TAGGED, { input: simplePipeline("fifty-one"), tags: tags(51) });
    expect(codeOf(over)).toBe("LIMIT_EXCEEDED");
    expect(pathsOf(over)).toEqual(["tags"]);
    expect((await create("fifty", tags(50))).tags).toHaveLength(50);
  });
});

describe("tagResource, untagResource, listTagsForResource", () => {
  it("adds tags and gives existing keys new values; removes by key, ignoring keys it lacks; audited", async () => {
    await create("retag", [{ key: "team", value: "a" }]);
    const tagged = dataOf(
      await t.gql(TAG, {
        r: SRN("retag"),
        tags: [
          { key: "team", value: "b" },
          { key: "cost-center", value: "42" },
        ],
      }),
    ).tagResource;
    expect(tagged).toEqual({
      resourceArn: SRN("retag"),
      tags: [
        { key: "cost-center", value: "42" },
        { key: "team", value: "b" },
      ],
    });
    // pipeline/<name> and the pipelineArn of get-pipeline --format aws name it too.
    dataOf(await t.gql(TAG, { r: "arn:sluice:codepipeline:::retag", tags: [{ key: "tier", value: "1" }] }));
    const untagged = dataOf(await t.gql(UNTAG, { r: "pipeline/retag", keys: ["team", "never-there"] }));
    expect(untagged.untagResource).toEqual({
      resourceArn: SRN("retag"),
      tags: [
        { key: "cost-center", value: "42" },
        { key: "tier", value: "1" },
      ],
    });
    expect(await tagsOf("retag")).toEqual(untagged.untagResource.tags);
    // Tagging writes no new version of the document.
    expect(dataOf(await t.gql(`{ pipeline(name: "retag") { version } }`)).pipeline.version).toBe(1);
    const audit = dataOf(
      await t.gql(`{ auditEvents(pipelineName: "retag") { nodes { operation outcome pipelineName } } }`),
    ).auditEvents.nodes;
    expect(audit).toEqual(
      expect.arrayContaining([
        { operation: "tagResource", outcome: "ok", pipelineName: "retag" },
        { operation: "untagResource", outcome: "ok", pipelineName: "retag" },
      ]),
    );
  });

  it("refuses bad tags with the path of each and changes nothing", async () => {
    await create("keep-tags", [{ key: "team", value: "a" }]);
    const response = await t.gql(TAG, {
      r: SRN("keep-tags"),
      tags: [
        { key: "team", value: "b" },
        { key: "k".repeat(129), value: "x" },
        { key: "AWS:name", value: "x" },
        { key: "bad\u0007key", value: "x" },
      ],
    });
    expect(codeOf(response)).toBe("BAD_USER_INPUT");
    expect(pathsOf(response)).toEqual(["tags[1].key", "tags[2].key", "tags[3].key"]);
    const untag = await t.gql(UNTAG, { r: SRN("keep-tags"), keys: ["team", "aws:x"] });
    expect(codeOf(untag)).toBe("BAD_USER_INPUT");
    expect(pathsOf(untag)).toEqual(["tagKeys[1]"]);
    expect(await tagsOf("keep-tags")).toEqual([{ key: "team", value: "a" }]);
    const audit = dataOf(
      await t.gql(
        `{ auditEvents(pipelineName: "keep-tags", operation: "tagResource") { nodes { outcome } } }`,
      ),
    ).auditEvents.nodes;
    expect(audit).toEqual([{ outcome: "BAD_USER_INPUT" }]);
  });

  it("keeps a pipeline at 50 tags: one more is LIMIT_EXCEEDED and changes nothing; a new value for a key is fine", async () => {
    const tags = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: "" }));
    await create("full", tags);
    const over = await t.gql(TAG, { r: SRN("full"), tags: [{ key: "one-more", value: "x" }] });
    expect(codeOf(over)).toBe("LIMIT_EXCEEDED");
    expect(pathsOf(over)).toEqual(["tags"]);
    expect(await tagsOf("full")).toHaveLength(50);
    const replaced = dataOf(await t.gql(TAG, { r: SRN("full"), tags: [{ key: "k7", value: "seven" }] }));
    expect(replaced.tagResource.tags).toHaveLength(50);
    expect(replaced.tagResource.tags).toContainEqual({ key: "k7", value: "seven" });
  });

  it("answers a resource that is no pipeline with BAD_USER_INPUT, an unknown pipeline with NOT_FOUND", async () => {
    for (const r of ["web", "srn:sluice:default:pipeline/web/stage/Build", "srn:sluice:default:secret/x"]) {
      expect([r, codeOf(await t.gql(TAG, { r, tags: [{ key: "a", value: "b" }] }))]).toEqual([
        r,
        "BAD_USER_INPUT",
      ]);
    }
    // Another account's pipeline: refused whatever the caller's policies (the admin's: Admin).
    expect(
      codeOf(await t.gql(TAG, { r: "srn:sluice:team-b:pipeline/retag", tags: [{ key: "a", value: "b" }] })),
    ).toBe("FORBIDDEN");
    expect(codeOf(await t.gql(LIST, { r: SRN("nowhere") }))).toBe("NOT_FOUND");
    expect(codeOf(await t.gql(TAG, { r: SRN("nowhere"), tags: [{ key: "a", value: "b" }] }))).toBe(
      "NOT_FOUND",
    );
    expect(codeOf(await t.gql(UNTAG, { r: SRN("nowhere"), keys: ["a"] }))).toBe("NOT_FOUND");
  });

  it("lets a ReadOnly user list tags but not change them", async () => {
    await create("guarded", [{ key: "team", value: "a" }]);
    dataOf(await t.gql(`mutation { createUser(name: "reader", email: "reader@example.com") { name } }`));
    dataOf(await t.gql(`mutation { attachPolicy(policyName: "ReadOnly", principal: "user/reader") }`));
    const token = dataOf(
      await t.gql(`mutation { createApiToken(principal: "user/reader", description: "tags") { secret } }`),
    ).createApiToken.secret as string;
    expect(dataOf(await t.gql(LIST, { r: SRN("guarded") }, { token })).listTagsForResource.tags).toEqual([
      { key: "team", value: "a" },
    ]);
    expect(
      dataOf(await t.gql(`{ pipeline(name: "guarded") { tags { key value } } }`, {}, { token })).pipeline
        .tags,
    ).toEqual([{ key: "team", value: "a" }]);
    const tag = await t.gql(TAG, { r: SRN("guarded"), tags: [{ key: "team", value: "b" }] }, { token });
    expect(codeOf(tag)).toBe("FORBIDDEN");
    expect(tag.errors?.[0]?.message).toContain(`sluice:TagResource on ${SRN("guarded")}`);
    expect(codeOf(await t.gql(UNTAG, { r: SRN("guarded"), keys: ["team"] }, { token }))).toBe("FORBIDDEN");
    expect(await tagsOf("guarded")).toEqual([{ key: "team", value: "a" }]);
  });
});

describe("pipelines(tag:)", () => {
  it("keeps the pipelines holding the tag, pages through them forward and backward, and counts them", async () => {
    for (let i = 0; i < 5; i++) await create(`svc-a-${i}`, [{ key: "squad", value: "alpha" }]);
    for (let i = 0; i < 2; i++) await create(`svc-b-${i}`, [{ key: "squad", value: "beta" }]);
    const alpha = { key: "squad", value: "alpha" };
    // Each new pipeline starts an execution, which moves its lastActivityAt: the order is settled
    // once every one has its execution.
    const listed = await eventually(
      async () => {
        const all = dataOf(
          await t.gql(
            `query ($tag: TagFilterInput) { pipelines(tag: $tag, first: 100) { nodes { name executions(first: 1) { nodes { id } } } } }`,
            { tag: alpha },
          ),
        ).pipelines.nodes;
        return all.length === 5 && all.every((p: any) => p.executions.nodes.length === 1)
          ? (all.map((p: any) => p.name) as string[])
          : undefined;
      },
      30_000,
      "the first execution of every alpha pipeline",
    );
    expect([...listed].sort()).toEqual(["svc-a-0", "svc-a-1", "svc-a-2", "svc-a-3", "svc-a-4"]);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = dataOf(await t.gql(PIPELINES, { tag: alpha, first: 2, after })).pipelines;
      expect(page.totalCount).toBe(5);
      expect(page.nodes.length).toBeLessThanOrEqual(2);
      expect(page.nodes.every((n: any) => n.tags.some((tag: any) => tag.value === "alpha"))).toBe(true);
      seen.push(...page.nodes.map((n: any) => n.name));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(listed);
    const last = dataOf(await t.gql(PIPELINES, { tag: alpha, last: 2 })).pipelines;
    expect(last.totalCount).toBe(5);
    expect(last.nodes.map((n: any) => n.name)).toEqual(listed.slice(3));
    expect(last.pageInfo.hasPreviousPage).toBe(true);
    const before = dataOf(
      await t.gql(PIPELINES, { tag: alpha, last: 2, before: last.pageInfo.startCursor }),
    ).pipelines;
    expect(before.nodes.map((n: any) => n.name)).toEqual(listed.slice(1, 3));
    // A key alone: any value.
    const squad = dataOf(await t.gql(PIPELINES, { tag: { key: "squad" }, first: 100 })).pipelines;
    expect(squad.totalCount).toBe(7);
    expect(squad.nodes).toHaveLength(7);
    const none = dataOf(await t.gql(PIPELINES, { tag: { key: "squad", value: "gamma" } })).pipelines;
    expect(none).toMatchObject({ totalCount: 0, nodes: [] });
  });
});

describe("the installation archive", () => {
  it("carries the tags: export, import elsewhere, the same tags", async () => {
    await create("archived", [
      { key: "team", value: "payments" },
      { key: "tier", value: "1" },
    ]);
    const { exportInstallation } = dataOf(
      await t.gql(`mutation { exportInstallation(includeExecutions: false) }`),
    );
    const archived = exportInstallation.pipelines.find((p: any) => p.name === "archived");
    expect(archived.tags).toEqual([
      { key: "team", value: "payments" },
      { key: "tier", value: "1" },
    ]);
    const restored = await startTestServer();
    try {
      const bad = structuredClone(exportInstallation);
      bad.pipelines.find((p: any) => p.name === "archived").tags.push({ key: "aws:x", value: "" });
      const refused = await restored.gql(
        `mutation ($a: JSON!) { importInstallation(archive: $a) { pipelines } }`,
        {
          a: bad,
        },
      );
      expect(codeOf(refused)).toBe("BAD_USER_INPUT");
      const index = bad.pipelines.findIndex((p: any) => p.name === "archived");
      expect(pathsOf(refused)).toEqual([`archive.pipelines[${index}].tags[2].key`]);
      dataOf(
        await restored.gql(`mutation ($a: JSON!) { importInstallation(archive: $a) { pipelines } }`, {
          a: exportInstallation,
        }),
      );
      expect(await tagsOf("archived", restored)).toEqual(archived.tags);
      expect(await tagsOf("retag", restored)).toEqual(await tagsOf("retag"));
    } finally {
      await restored.stop();
    }
  });
});
