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
  worker = await TestWorker.start(t.natsPrefix, [GIT], () => ({ outcome: "Succeeded" }));
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
  return execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], {
    cwd: repo,
  })
    .toString()
    .trim();
}

function commit(text: string): string {
  fs.writeFileSync(path.join(repo, "file.txt"), `${text}\n`);
  git("add", ".");
  git("commit", "-q", "-m", text);
  return git("rev-parse", "HEAD");
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

function pipeline(name: string, configuration: Record<string, string>) {
  return sourceThen(
    name,
    { name: "Gate", actions: [manualApproval()] },
    { checkout: { Repository: `file://${repo}`, ...configuration } },
  );
}

it("starts an execution with the new revision when the branch moves, and only then", async () => {
  dataOf(await t.gql(CREATE, { input: pipeline("polled", { PollIntervalSeconds: "1" }) }));
  dataOf(
    await t.gql(CREATE, {
      input: pipeline("not-polled", { PollIntervalSeconds: "1", DetectChanges: "false" }),
    }),
  );
  // The first look records the head: creating the pipeline already started an execution.
  await new Promise((resolve) => setTimeout(resolve, 3000));
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
  await new Promise((resolve) => setTimeout(resolve, 2500));
  expect((await executions("polled")).length).toBe(2);
  expect((await executions("not-polled")).map((e) => e.trigger.triggerType)).toEqual(["CreatePipeline"]);
});
