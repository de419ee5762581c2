/**
 * PollIntervalSeconds: the server reads the branch head with `git ls-remote` and starts an
 * execution (trigger PollForSourceChanges) when it moves. A real repository on disk.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CREATE, manualApproval, sourceThen } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, TestWorker } from "../support/worker";

let t: TestServer;
let worker: TestWorker;
let repo: string;
beforeAll(async () => {
  t = await startTestServer();
  // Like the agent's Git source: reports the commit it checked out (the head when the job came).
  worker = await TestWorker.start(t.natsPrefix, [GIT], (job) => ({
    outcome: "Succeeded",
    outputVariables: { CommitId: headOf(job.configuration.Repository!.replace(/^file:\/\//, "")) },
  }));
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-poll-"));
  git("init", "-q", "-b", "main");
  commit("one");
});
afterAll(async () => {
  await worker.stop();
  await t.stop();
  fs.rmSync(repo, { recursive: true, force: true });
});

function git(...args: string[]): string {
  return gitIn(repo, ...args);
}

function gitIn(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], {
    cwd: dir,
  })
    .toString()
    .trim();
}

function headOf(dir: string): string {
  return gitIn(dir, "rev-parse", "HEAD");
}

function commit(text: string, dir = repo): string {
  fs.writeFileSync(path.join(dir, "file.txt"), `${text}\n`);
  gitIn(dir, "add", ".");
  gitIn(dir, "commit", "-q", "-m", text);
  return headOf(dir);
}

async function executions(name: string) {
  const { pipeline } = dataOf(
    await t.gql(
      `query ($n: String!) { pipeline(name: $n) { executions(first: 10) { nodes { id
         trigger { triggerType triggerDetail } sourceRevisions { revisionId } } } } }`,
      { n: name },
    ),
  );
  return pipeline.executions.nodes as Array<{
    trigger: { triggerType: string; triggerDetail: string };
    sourceRevisions: Array<{ revisionId: string }>;
  }>;
}

/** The revision the poller recorded for the pipeline's source (it records after starting). */
async function recorded(name: string): Promise<string | null> {
  const rows: Array<{ last_revision: string | null }> = await t.server.db.query(
    `SELECT sp.last_revision FROM source_polls sp JOIN pipelines p ON p.id = sp.pipeline_id WHERE p.name = $1`,
    [name],
  );
  return rows[0]?.last_revision ?? null;
}

function pipeline(name: string, configuration: Record<string, string>, dir = repo) {
  return sourceThen(
    name,
    { name: "Gate", actions: [manualApproval()] },
    { checkout: { Repository: `file://${dir}`, ...configuration } },
  );
}

it("starts an execution with the new revision when the branch moves, and only then", async () => {
  dataOf(await t.gql(CREATE, { input: pipeline("polled", { PollIntervalSeconds: "1" }) }));
  dataOf(
    await t.gql(CREATE, {
      input: pipeline("not-polled", { PollIntervalSeconds: "1", DetectChanges: "false" }),
    }),
  );
  // The first look records the head: creating the pipeline already started an execution with it.
  const first = git("rev-parse", "HEAD");
  await eventually(async () => (await recorded("polled")) === first, 10_000, "the first look");
  expect((await executions("polled")).map((e) => e.trigger.triggerType)).toEqual(["CreatePipeline"]);

  const second = commit("two");
  const started = await eventually(
    async () => {
      const list = await executions("polled");
      return list.find((e) => e.trigger.triggerType === "PollForSourceChanges");
    },
    15_000,
    "an execution started by polling",
  );
  expect(started.sourceRevisions).toEqual([{ revisionId: second }]);
  expect(started.trigger.triggerDetail).toBe(`Checkout: main moved to ${second.slice(0, 12)}`);
  // The poll records the head after starting its execution: from then on nothing new starts.
  await eventually(async () => (await recorded("polled")) === second, 10_000, "the move recorded");
  expect((await executions("polled")).length).toBe(2);
  expect((await executions("not-polled")).map((e) => e.trigger.triggerType)).toEqual(["CreatePipeline"]);
});

describe("a push right after the document was saved", () => {
  let own: string;
  beforeAll(() => {
    own = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-poll-soon-"));
    gitIn(own, "init", "-q", "-b", "main");
    commit("one", own);
  });
  afterAll(() => fs.rmSync(own, { recursive: true, force: true }));

  /** Waits until the push was seen and handled, then says which executions the pipeline has. */
  async function afterPush(name: string, pushed: string) {
    await eventually(
      async () => (await recorded(name)) === pushed,
      20_000,
      `the poll of ${name} seeing ${pushed}`,
    );
    return executions(name);
  }

  it("starts one execution for a push made just after creating the pipeline", async () => {
    const before = headOf(own);
    dataOf(await t.gql(CREATE, { input: pipeline("soon-created", { PollIntervalSeconds: "1" }, own) }));
    // The creation's execution checked out `before`; the push comes a moment later.
    await worker.waitFor((jobs) => jobs.some((j) => j.pipelineName === "soon-created"));
    const pushed = commit("two", own);
    const list = await afterPush("soon-created", pushed);
    expect(list.map((e) => e.trigger.triggerType).sort()).toEqual(["CreatePipeline", "PollForSourceChanges"]);
    expect(list.find((e) => e.trigger.triggerType === "PollForSourceChanges")!.sourceRevisions).toEqual([
      { revisionId: pushed },
    ]);
    expect(before).not.toBe(pushed);
  });

  it("starts one execution for a push made just after an edit turned polling on", async () => {
    const document = pipeline("soon-edited", {}, own);
    dataOf(await t.gql(CREATE, { input: document }));
    await worker.waitFor((jobs) => jobs.some((j) => j.pipelineName === "soon-edited"));
    const polled = pipeline("soon-edited", { PollIntervalSeconds: "1" }, own);
    dataOf(
      await t.gql(
        `mutation ($input: PipelineInput!) { updatePipeline(input: $input, expectedVersion: 1) { version } }`,
        { input: polled },
      ),
    );
    const pushed = commit("three", own);
    const list = await afterPush("soon-edited", pushed);
    expect(list.map((e) => e.trigger.triggerType).sort()).toEqual(["CreatePipeline", "PollForSourceChanges"]);
    expect(list.find((e) => e.trigger.triggerType === "PollForSourceChanges")!.sourceRevisions).toEqual([
      { revisionId: pushed },
    ]);
  });
});
