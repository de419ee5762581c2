import { CREATE, simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { GIT, SHELL, TestWorker } from "../support/worker";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { SLUICE_MAX_PIPELINES: "7" } });
});
afterAll(async () => {
  await t.stop();
});

const LIST = `query ($first: Int, $after: String) {
  pipelines(first: $first, after: $after) {
    edges { cursor node { name lastActivityAt } } nodes { name } pageInfo { hasNextPage endCursor } } }`;

async function allNames(first: number): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = dataOf(await t.gql(LIST, { first, after })).pipelines;
    names.push(...page.nodes.map((n: { name: string }) => n.name));
    expect(page.edges.map((e: any) => e.node.name)).toEqual(page.nodes.map((n: any) => n.name));
    if (!page.pageInfo.hasNextPage) return names;
    after = page.pageInfo.endCursor;
  }
}

it("pages through every pipeline, most recent activity first, without gaps or repeats", async () => {
  for (const name of ["p1", "p2", "p3", "p4", "p5"]) {
    dataOf(await t.gql(CREATE, { input: simplePipeline(name) }));
  }
  const names = await allNames(2);
  expect([...names].sort()).toEqual(["p1", "p2", "p3", "p4", "p5"]);
  expect(await allNames(100)).toEqual(names);
  const page = dataOf(await t.gql(LIST, { first: 5 })).pipelines;
  const times = page.edges.map((e: any) => Date.parse(e.node.lastActivityAt));
  expect(times).toEqual([...times].sort((a: number, b: number) => b - a));

  // A change moves the pipeline to the front.
  await t.gql(
    `mutation ($input: PipelineInput!) { updatePipeline(input: $input, expectedVersion: 1) { version } }`,
    {
      input: simplePipeline("p1", { executionMode: "QUEUED" }),
    },
  );
  expect((await allNames(3))[0]).toBe("p1");
});

it("moves a pipeline to the front when one of its executions starts or changes status", async () => {
  const first = async () => (await allNames(1))[0];
  // p5 was created last, then p1 changed: p1 leads.
  expect(await first()).toBe("p1");

  const started = dataOf(await t.gql(`mutation { releaseChange(pipelineName: "p3") { id } }`)).releaseChange;
  expect(await first()).toBe("p3");

  // p2's first execution (started by its creation) changes status: stopped.
  const executions = dataOf(await t.gql(`{ pipeline(name: "p2") { executions(first: 1) { nodes { id } } } }`))
    .pipeline.executions.nodes;
  dataOf(
    await t.gql(`mutation ($id: ID!) { stopExecution(executionId: $id, abandon: true) { status } }`, {
      id: executions[0].id,
    }),
  );
  expect(await first()).toBe("p2");

  dataOf(
    await t.gql(`mutation ($id: ID!) { stopExecution(executionId: $id, abandon: true) { status } }`, {
      id: started.id,
    }),
  );
  expect(await first()).toBe("p3");
});

it("leaves the order alone for events that change no execution's status", async () => {
  const first = async () => (await allNames(1))[0];
  const worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], () => "hold");
  try {
    dataOf(await t.gql(CREATE, { input: simplePipeline("busy") }));
    await worker.waitFor((jobs) => jobs.some((j) => j.pipelineName === "busy"));
    dataOf(await t.gql(`mutation { releaseChange(pipelineName: "p4") { id } }`));
    expect(await first()).toBe("p4");
    // busy's source succeeds and its build is taken: three decisions, its execution InProgress throughout.
    await worker.finish(
      worker.jobs.find((j) => j.pipelineName === "busy")!,
      {
        outcome: "Succeeded",
        outputVariables: { CommitId: "0123abc" },
      },
    );
    await worker.waitFor((jobs) => jobs.some((j) => j.pipelineName === "busy" && j.stageName === "Build"));
    expect(await first()).toBe("p4");
  } finally {
    await worker.stop();
  }
});

it("rejects a page size outside 1–100 and a forged cursor", async () => {
  expect((await t.gql(LIST, { first: 0 })).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect((await t.gql(LIST, { first: 101 })).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  const forged = await t.gql(LIST, { first: 2, after: "not-a-cursor" });
  expect(forged.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
});

it("enforces the pipelines-per-installation limit with LIMIT_EXCEEDED", async () => {
  dataOf(await t.gql(CREATE, { input: simplePipeline("p6") }));
  const over = await t.gql(CREATE, { input: simplePipeline("p7") });
  expect(over.errors?.[0]?.extensions?.code).toBe("LIMIT_EXCEEDED");
  expect(over.errors?.[0]?.message).toMatch(/7/);
});
