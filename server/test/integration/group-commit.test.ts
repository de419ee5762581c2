/**
 * Group commit (messaging/results-consumer.ts, engine applyAgentEvents): results that arrive
 * together are applied together, one transaction per pipeline, each pipeline's in the order they
 * were stored. Here the results consumer is paused while an agent finishes four parallel actions
 * (and accepts and finishes a fifth job of another pipeline), so that they all wait in JetStream
 * and reach the server in one read; once it resumes, every result is applied exactly once.
 */
import { CREATE, shellBuild, sourceThen } from "../support/documents";
import { sample } from "../support/prometheus";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(60_000);

let t: TestServer;
let worker: TestWorker;
beforeAll(async () => {
  t = await startTestServer();
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.actionTypeId.category === "Source"
      ? { outcome: "Succeeded", outputVariables: { CommitId: "abc123" } }
      : "hold",
  );
});
afterAll(async () => {
  await worker?.stop();
  await t?.stop();
});

const EXECUTION = `query ($id: ID!) { pipelineExecution(id: $id) { status
  stages { name status actions { name status attempt attempts { attempt } } } events { type actionName } } }`;

async function latestExecution(pipeline: string): Promise<string> {
  return eventually(async () => {
    const nodes = dataOf(
      await t.gql(`query ($p: String!) { pipeline(name: $p) { executions(first: 1) { nodes { id } } } }`, {
        p: pipeline,
      }),
    ).pipeline.executions.nodes;
    return nodes[0]?.id as string | undefined;
  });
}

it("applies results that arrived together once each, in one transaction per pipeline", async () => {
  const wide = sourceThen("wide", {
    name: "Build",
    actions: ["A", "B", "C", "D"].map((name) => shellBuild(name, "make")),
  });
  dataOf(await t.gql(CREATE, { input: wide }));
  dataOf(
    await t.gql(CREATE, {
      input: sourceThen("narrow", { name: "Build", actions: [shellBuild("Only", "make")] }),
    }),
  );
  const wideId = await latestExecution("wide");
  const narrowId = await latestExecution("narrow");
  await worker.waitFor(
    (jobs) =>
      jobs.filter((j) => j.executionId === wideId && j.stageName === "Build").length === 4 &&
      jobs.some((j) => j.executionId === narrowId && j.stageName === "Build"),
  );
  const before = await scrapeBatches();

  // Paused: every result below waits in the results stream.
  await t.server.results.stop();
  const held = worker.jobs.filter((j) => j.stageName === "Build");
  await Promise.all(held.map((job) => worker.finish(job, { outcome: "Succeeded" })));
  await t.server.results.start();

  for (const id of [wideId, narrowId]) {
    const execution = await eventually(async () => {
      const e = dataOf(await t.gql(EXECUTION, { id })).pipelineExecution;
      return e.status === "Succeeded" ? e : undefined;
    });
    // Each result once: one attempt per action, one ACTION_SUCCEEDED each.
    const build = execution.stages.find((s: { name: string }) => s.name === "Build");
    for (const action of build.actions)
      expect(action).toMatchObject({ status: "Succeeded", attempt: 1, attempts: [{ attempt: 1 }] });
    const succeeded = execution.events
      .filter((e: { type: string }) => e.type === "ACTION_SUCCEEDED")
      .map((e: { actionName: string }) => e.actionName)
      .sort();
    expect(succeeded).toEqual(id === wideId ? ["A", "B", "C", "Checkout", "D"] : ["Checkout", "Only"]);
  }

  // The five results went in batches larger than one (sum of sizes above the number of batches).
  const after = await scrapeBatches();
  expect(after.sum - before.sum).toBe(5);
  expect(after.count - before.count).toBeLessThan(5);
});

async function scrapeBatches(): Promise<{ sum: number; count: number }> {
  const response = await fetch(t.url.replace(/\/graphql$/, "/metrics"), {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const text = await response.text();
  return {
    sum: sample(text, "sluice_results_batch_size_sum") ?? 0,
    count: sample(text, "sluice_results_batch_size_count") ?? 0,
  };
}
