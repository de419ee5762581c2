import { Client } from "pg";
import { CREATE, DOCUMENT, simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const UPDATE = `mutation ($input: PipelineInput!, $v: Int!) { updatePipeline(input: $input, expectedVersion: $v) { name version } }`;
const VERSIONS = `query ($name: String!, $after: String) {
  pipeline(name: $name) { version versions(first: 2, after: $after) {
    nodes { version createdBy createdAt document } pageInfo { hasNextPage endCursor } edges { cursor node { version } } } } }`;

describe("createPipeline and pipeline(name)", () => {
  it("stores version 1 and serves the structure and the document", async () => {
    const created = dataOf(await t.gql(CREATE, { input: simplePipeline("create-one") }));
    expect(created.createPipeline).toMatchObject({ name: "create-one", version: 1, latestVersion: 1 });
    expect(created.createPipeline.stages.map((s: { name: string }) => s.name)).toEqual(["Source", "Build"]);
    const read = dataOf(await t.gql(DOCUMENT, { name: "create-one" }));
    expect(read.pipeline.document).toEqual(simplePipeline("create-one"));
  });

  it("copies a pipeline: export, change the name, create — identical but for the name", async () => {
    dataOf(await t.gql(CREATE, { input: simplePipeline("copy-src") }));
    const exported = dataOf(await t.gql(DOCUMENT, { name: "copy-src" })).pipeline.document;
    dataOf(await t.gql(CREATE, { input: { ...exported, name: "copy-dst" } }));
    const copy = dataOf(await t.gql(DOCUMENT, { name: "copy-dst" })).pipeline.document;
    expect({ ...copy, name: "copy-src" }).toEqual(exported);
  });

  it("refuses a second pipeline of the same name with CONFLICT", async () => {
    dataOf(await t.gql(CREATE, { input: simplePipeline("twice") }));
    const again = await t.gql(CREATE, { input: simplePipeline("twice") });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  });

  it("returns null for a pipeline that does not exist", async () => {
    expect(dataOf(await t.gql(DOCUMENT, { name: "nope" })).pipeline).toBeNull();
  });

  it("reports every problem of an invalid document with its path and stores nothing", async () => {
    const bad = simplePipeline("bad-one");
    bad.stages[1].actions[0].runOrder = 0;
    bad.stages[1].actions[0].inputArtifacts = [{ name: "Missing" }];
    bad.stages[0].name = "has space";
    const response = await t.gql(CREATE, { input: bad });
    expect(response.data).toBeNull();
    const error = response.errors?.[0];
    expect(error?.extensions?.code).toBe("BAD_USER_INPUT");
    const paths = (error?.extensions?.validationErrors as Array<{ path: string; message: string }>).map(
      (e) => e.path,
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        "stages[1].actions[0].runOrder",
        "stages[1].actions[0].inputArtifacts[0].name",
        "stages[0].name",
      ]),
    );
    for (const issue of error?.extensions?.validationErrors as Array<{ message: string }>) {
      expect(issue.message).toMatch(/\.$/);
    }
    expect(dataOf(await t.gql(DOCUMENT, { name: "bad-one" })).pipeline).toBeNull();
  });

  it("does not leak stack traces outside development", async () => {
    const response = await t.gql(CREATE, { input: { ...simplePipeline("x"), stages: [] } });
    expect(JSON.stringify(response)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
  });
});

describe("updatePipeline and versions", () => {
  it("writes a new version, rejects a stale expectedVersion, and keeps every version readable", async () => {
    dataOf(await t.gql(CREATE, { input: simplePipeline("versioned") }));
    const v2doc = simplePipeline("versioned", { executionMode: "QUEUED" });
    expect(dataOf(await t.gql(UPDATE, { input: v2doc, v: 1 })).updatePipeline.version).toBe(2);

    const stale = await t.gql(UPDATE, {
      input: simplePipeline("versioned", { executionMode: "PARALLEL" }),
      v: 1,
    });
    expect(stale.errors?.[0]?.extensions).toMatchObject({
      code: "CONFLICT",
      currentVersion: 2,
      expectedVersion: 1,
    });

    const v3doc = simplePipeline("versioned", { executionMode: "PARALLEL" });
    expect(dataOf(await t.gql(UPDATE, { input: v3doc, v: 2 })).updatePipeline.version).toBe(3);

    const v1 = dataOf(await t.gql(DOCUMENT, { name: "versioned", version: 1 })).pipeline;
    expect(v1).toMatchObject({ version: 1, latestVersion: 3 });
    expect(v1.document.executionMode).toBe("SUPERSEDED");

    const page1 = dataOf(await t.gql(VERSIONS, { name: "versioned" })).pipeline.versions;
    expect(page1.nodes.map((n: { version: number }) => n.version)).toEqual([3, 2]);
    expect(page1.nodes[0]).toMatchObject({ createdBy: "user/admin", document: v3doc });
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = dataOf(await t.gql(VERSIONS, { name: "versioned", after: page1.pageInfo.endCursor }))
      .pipeline.versions;
    expect(page2.nodes.map((n: { version: number }) => n.version)).toEqual([1]);
    expect(page2.pageInfo).toEqual({ hasNextPage: false, endCursor: page2.edges[0].cursor });
  });

  it("writes no version for an unchanged document", async () => {
    dataOf(await t.gql(CREATE, { input: simplePipeline("unchanged") }));
    expect(
      dataOf(await t.gql(UPDATE, { input: simplePipeline("unchanged"), v: 1 })).updatePipeline.version,
    ).toBe(1);
  });

  it("answers NOT_FOUND for an unknown pipeline and BAD_USER_INPUT for an invalid one, changing nothing", async () => {
    const missing = await t.gql(UPDATE, { input: simplePipeline("ghost"), v: 1 });
    expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    dataOf(await t.gql(CREATE, { input: simplePipeline("keep") }));
    const invalid = simplePipeline("keep");
    invalid.stages[1].actions[0].configuration = {};
    const response = await t.gql(UPDATE, { input: invalid, v: 1 });
    expect(response.errors?.[0]?.extensions?.validationErrors).toEqual([
      { path: "stages[1].actions[0].configuration.Commands", message: expect.any(String) },
    ]);
    expect(dataOf(await t.gql(DOCUMENT, { name: "keep" })).pipeline).toMatchObject({
      version: 1,
      document: simplePipeline("keep"),
    });
  });
});

describe("deletePipeline", () => {
  it("removes the pipeline and its versions; the name can be used again", async () => {
    dataOf(await t.gql(CREATE, { input: simplePipeline("doomed") }));
    expect(dataOf(await t.gql(`mutation { deletePipeline(name: "doomed") }`)).deletePipeline).toBe(true);
    expect(dataOf(await t.gql(DOCUMENT, { name: "doomed" })).pipeline).toBeNull();
    const again = await t.gql(`mutation { deletePipeline(name: "doomed") }`);
    expect(again.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(dataOf(await t.gql(CREATE, { input: simplePipeline("doomed") })).createPipeline.version).toBe(1);
  });

  it("deletes right after creating, 60 pairs at once (twice), without an error: no deadlock with the first job's accept", async () => {
    // A worker takes the first executions' jobs at once: accepts and results lock the runtime
    // while the deletes run.
    const worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], () => "hold");
    const pair = async (i: number) => {
      const name = `churn-${i}`;
      const created = await t.gql(CREATE, { input: simplePipeline(name) });
      const deleted = await t.gql(`mutation ($n: String!) { deletePipeline(name: $n) }`, { n: name });
      return [created.errors ?? [], deleted.errors ?? []].flat().map((e) => `${name}: ${e.message}`);
    };
    // The race is narrow: two rounds of 60 make a regression show in nearly every run.
    const errors: string[] = [];
    for (const round of [0, 60]) {
      errors.push(...(await Promise.all(Array.from({ length: 60 }, (_, i) => pair(round + i)))).flat());
    }
    await worker.waitFor((jobs) => jobs.filter((j) => j.pipelineName.startsWith("churn-")).length === 120);
    await worker.stop();
    expect(errors).toEqual([]);
    const left = dataOf(await t.gql(`{ pipelines(first: 100) { nodes { name } } }`)).pipelines.nodes;
    expect(left.filter((p: { name: string }) => p.name.startsWith("churn-"))).toEqual([]);
  });

  it("takes the runtime's lock before the pipeline's, as every event of the pipeline does", async () => {
    const { id } = dataOf(await t.gql(CREATE, { input: simplePipeline("held") })).createPipeline;
    // An event of the pipeline in the middle of its transaction: it holds the runtime row and will
    // next insert rows that reference the pipeline (FOR KEY SHARE of the pipeline row).
    const event = new Client({ connectionString: t.database!.url });
    await event.connect();
    try {
      await event.query("BEGIN");
      await event.query("SELECT 1 FROM pipeline_runtimes WHERE pipeline_id = $1 FOR UPDATE", [id]);
      const deleting = t.gql(`mutation { deletePipeline(name: "held") }`);
      await eventually(
        async () =>
          (
            await event.query(
              `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
            )
          ).rowCount! > 0,
        10_000,
        "the delete waiting for the event",
      );
      // The delete waits without holding the pipeline row: the event goes on (deleting the
      // pipeline first would hold it, and the two would deadlock).
      await event.query("SELECT 1 FROM pipelines WHERE id = $1 FOR KEY SHARE NOWAIT", [id]);
      await event.query("COMMIT");
      expect(dataOf(await deleting).deletePipeline).toBe(true);
    } finally {
      await event.end();
    }
  });
});
