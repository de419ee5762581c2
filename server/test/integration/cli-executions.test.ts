/**
 * The CLI's execution commands (cli/dist/src/main.js, run as a process) against a real server and a
 * TestWorker that answers jobs over NATS: start and wait (exit codes, the event lines on stderr, the
 * summary on stdout), transitions, approvals by names, stop, retry, and reading executions back.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { manualApproval, shellBuild, sourceThen } from "../support/documents";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

const execFileAsync = promisify(execFile);
const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

let t: TestServer;
let worker: TestWorker;
let dir: string;
beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  t = await startTestServer();
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], (job) => {
    if (job.actionTypeId.category === "Source") return { outcome: "Succeeded", outputVariables: {} };
    const commands = job.configuration.Commands ?? "";
    if (commands.includes("fail")) return { outcome: "Failed", summary: "exit status 2" };
    if (commands.includes("flaky") && job.attempt === 1) return { outcome: "Failed", summary: "flaked" };
    return { outcome: "Succeeded", summary: "built" };
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cli-executions-"));
});
afterAll(async () => {
  await worker.stop();
  await t.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: ADMIN_TOKEN });

async function sluice(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], {
      env: env(),
      cwd: dir,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** Starts the CLI and lets the test read its stderr while it runs, and signal it. */
function spawnSluice(...args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { env: env(), cwd: dir });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
  const exited = new Promise<Run>((resolve) =>
    child.on("close", (code, signal) => resolve({ stdout, stderr, code: code ?? (signal ? -1 : 0) })),
  );
  return {
    child,
    exited,
    stderrMatching: (pattern: RegExp) =>
      eventually(
        async () => pattern.exec(stderr) ?? undefined,
        20000,
        `stderr to match ${pattern}:\n${stderr}`,
      ),
  };
}

const json = (run: Run) => {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
};

const EXECUTIONS = `query ($name: String!) { pipeline(name: $name) { executions(first: 20) { nodes { id status } } } }`;
const EVENTS = `query ($id: ID!) { pipelineExecution(id: $id) { sequence events { type sequence } } }`;

/** Creates the pipeline with the CLI; `settle`: waits until the execution creating it starts ends. */
async function createPipeline(document: Record<string, unknown>, settle = true): Promise<void> {
  const file = path.join(dir, `${String(document.name)}.json`);
  fs.writeFileSync(file, JSON.stringify(document));
  const created = await sluice("create-pipeline", "--cli-input-json", `file://${file}`);
  expect(created.code).toBe(0);
  if (!settle) return;
  await eventually(
    async () => {
      const nodes = dataOf(await t.gql(EXECUTIONS, { name: document.name })).pipeline.executions.nodes;
      return (
        nodes.length > 0 && nodes.every((n: any) => n.status !== "InProgress" && n.status !== "Stopping")
      );
    },
    20000,
    `the first execution of ${String(document.name)} to end`,
  );
}

const build = (name: string, commands: string, extra: Record<string, unknown> = {}) =>
  sourceThen(name, { name: "Build", actions: [shellBuild("Compile", commands)] }, { extra });

/** The lines `--wait` writes for events: `<ISO time> <text>`. */
const eventLines = (stderr: string) => stderr.split("\n").filter((l) => /^\d{4}-\d\d-\d\dT\S+Z /.test(l));

it("start-pipeline-execution --wait follows a successful execution to its end: exit 0, every event once", async () => {
  await createPipeline(build("ok", "make", { variables: [{ name: "Env", defaultValue: "staging" }] }));
  const run = await sluice(
    "start-pipeline-execution",
    "--name",
    "ok",
    "--variable",
    "Env=prod",
    "--source-revision",
    "Checkout=4f1c2e0",
    "--client-request-token",
    "ci-build-1",
    "--wait",
    "--timeout",
    "60",
  );
  expect(run.code).toBe(0);
  const summary = json(run);
  expect(summary).toEqual({
    pipelineExecutionId: expect.any(String),
    pipelineName: "ok",
    status: "Succeeded",
    statusSummary: null,
    stages: [
      {
        name: "Source",
        status: "Succeeded",
        actions: [{ name: "Checkout", status: "Succeeded", summary: "Succeeded" }],
      },
      {
        name: "Build",
        status: "Succeeded",
        actions: [{ name: "Compile", status: "Succeeded", summary: "built" }],
      },
    ],
  });
  const id: string = summary.pipelineExecutionId;
  expect(run.stderr).toContain(`started execution ${id} of pipeline ok`);
  // One line per event of the execution, in order, none missed and none twice.
  const { events } = dataOf(await t.gql(EVENTS, { id })).pipelineExecution;
  const lines = eventLines(run.stderr);
  expect(lines).toHaveLength(events.length);
  expect(lines[0]).toMatch(/ execution InProgress$/);
  expect(lines).toContainEqual(expect.stringMatching(/ stage Build Succeeded$/));
  expect(lines).toContainEqual(expect.stringMatching(/ action Build\/Compile Succeeded$/));
  expect(lines.at(-1)).toMatch(/ execution Succeeded$/);
  // The server completes the subscription at the end: that is no lost stream.
  expect(run.stderr).not.toContain("lost the events");

  // The same client request token starts no second execution.
  const again = await sluice(
    "start-pipeline-execution",
    "--name",
    "ok",
    "--client-request-token",
    "ci-build-1",
  );
  expect(again.code).toBe(0);
  expect(json(again)).toEqual({ pipelineExecutionId: id });

  const got = json(await sluice("get-pipeline-execution", "--pipeline-execution-id", id)).pipelineExecution;
  expect(got).toMatchObject({
    pipelineExecutionId: id,
    pipelineName: "ok",
    pipelineVersion: 1,
    status: "Succeeded",
    trigger: { triggerType: "StartPipelineExecution", triggerDetail: "user/admin" },
    sourceRevisions: [expect.objectContaining({ actionName: "Checkout", revisionId: "4f1c2e0" })],
    variables: [{ name: "Env", resolvedValue: "prod" }],
  });
  expect(got.stages.map((s: any) => [s.name, s.status])).toEqual([
    ["Source", "Succeeded"],
    ["Build", "Succeeded"],
  ]);
  expect(got.stages[1].actions[0]).toMatchObject({
    name: "Compile",
    status: "Succeeded",
    attempt: 1,
    attempts: [
      expect.objectContaining({
        attempt: 1,
        status: "Succeeded",
        agent: { id: "test-worker", name: "test-worker" },
      }),
    ],
  });

  const listed = json(await sluice("list-pipeline-executions", "--name", "ok")).pipelineExecutionSummaries;
  expect(listed.map((e: any) => [e.status, e.trigger.triggerType])).toEqual([
    ["Succeeded", "StartPipelineExecution"],
    ["Succeeded", "CreatePipeline"],
  ]);
  expect(listed[0]).toMatchObject({
    pipelineExecutionId: id,
    sourceRevisions: [expect.objectContaining({ revisionId: "4f1c2e0" })],
  });
  const newest = json(await sluice("list-pipeline-executions", "--name", "ok", "--max-items", "1"));
  expect(newest.pipelineExecutionSummaries.map((e: any) => e.pipelineExecutionId)).toEqual([id]);
  expect(typeof newest.NextToken).toBe("string"); // the older execution is left
  const failed = json(await sluice("list-pipeline-executions", "--name", "ok", "--status", "Failed"));
  expect(failed).toEqual({ pipelineExecutionSummaries: [] });

  const missing = await sluice(
    "get-pipeline-execution",
    "--pipeline-execution-id",
    "00000000-0000-0000-0000-000000000000",
  );
  expect(missing).toMatchObject({ code: 1, stdout: "" });
  expect(missing.stderr).toBe("error: execution 00000000-0000-0000-0000-000000000000 not found\n");
}, 90000);

it("start-pipeline-execution --wait exits 1 when the build fails, naming the status and the summary", async () => {
  await createPipeline(build("broken", "make fail"));
  const run = await sluice("start-pipeline-execution", "--name", "broken", "--wait");
  expect(run.code).toBe(1);
  const summary = json(run);
  expect(summary).toMatchObject({
    pipelineName: "broken",
    status: "Failed",
    stages: [
      { name: "Source", status: "Succeeded" },
      {
        name: "Build",
        status: "Failed",
        actions: [{ name: "Compile", status: "Failed", summary: "exit status 2" }],
      },
    ],
  });
  const error = run.stderr.split("\n").filter((l) => l.startsWith("error: "));
  expect(error).toEqual([
    `error: execution ${summary.pipelineExecutionId} of pipeline broken ended Failed${summary.statusSummary ? `: ${summary.statusSummary}` : ""}`,
  ]);
  expect(eventLines(run.stderr)).toContainEqual(expect.stringMatching(/ action Build\/Compile Failed$/));

  // An API error is printed with its code, exit 1.
  const unknown = await sluice("start-pipeline-execution", "--name", "no-such-pipeline", "--wait");
  expect(unknown.code).toBe(1);
  expect(unknown.stdout).toBe("");
  expect(unknown.stderr).toMatch(/^error: .+ \(NOT_FOUND\)\n$/);
}, 60000);

it("retry-stage-execution re-runs the failed stage, and waiting again sees it succeed", async () => {
  await createPipeline(build("flaky", "make flaky"));
  const first = await sluice("start-pipeline-execution", "--name", "flaky", "--wait", "--timeout", "60");
  expect(first.code).toBe(1);
  const id: string = json(first).pipelineExecutionId;

  const notFailed = await sluice(
    "retry-stage-execution",
    "--pipeline-execution-id",
    id,
    "--stage-name",
    "Source",
  );
  expect(notFailed.code).toBe(1);
  expect(notFailed.stderr).toMatch(/^error: .+ \([A-Z_]+\)\n$/);

  const retried = await sluice(
    "retry-stage-execution",
    "--pipeline-execution-id",
    id,
    "--stage-name",
    "Build",
  );
  expect(retried.code).toBe(0);
  expect(json(retried)).toMatchObject({ pipelineExecutionId: id, pipelineName: "flaky" });

  const waited = await sluice("wait-pipeline-execution", "--pipeline-execution-id", id, "--timeout", "60");
  expect(waited.code).toBe(0);
  expect(json(waited)).toMatchObject({ pipelineExecutionId: id, status: "Succeeded" });
  expect(eventLines(waited.stderr)).toContainEqual(expect.stringMatching(/ stage Build InProgress$/));

  const got = json(await sluice("get-pipeline-execution", "--pipeline-execution-id", id)).pipelineExecution;
  expect(got.stages[1].actions[0]).toMatchObject({ attempt: 2, status: "Succeeded" });
  expect(got.stages[1].actions[0].attempts.map((a: any) => [a.attempt, a.status, a.summary])).toEqual([
    [1, "Failed", "flaked"],
    [2, "Succeeded", "built"],
  ]);
}, 90000);

it("disable-stage-transition holds executions and shows in get-pipeline-state; enable lets them in", async () => {
  await createPipeline(build("gated", "make"));
  const missingReason = await sluice("disable-stage-transition", "--name", "gated", "--stage-name", "Build");
  expect(missingReason.code).toBe(2);
  expect(missingReason.stderr).toContain("required option '--reason <text>' not specified");

  const disabled = await sluice(
    "disable-stage-transition",
    "--name",
    "gated",
    "--stage-name",
    "Build",
    "--reason",
    "release freeze",
  );
  expect(disabled.code).toBe(0);
  expect(json(disabled)).toEqual({
    stageName: "Build",
    enabled: false,
    disabledReason: "release freeze",
    disabledBy: "user/admin",
    disabledAt: expect.any(String),
  });
  const firstStage = await sluice(
    "disable-stage-transition",
    "--name",
    "gated",
    "--stage-name",
    "Source",
    "--reason",
    "x",
  );
  expect(firstStage.code).toBe(1);
  expect(firstStage.stderr).toMatch(/^error: .+ \(BAD_USER_INPUT\)\n/);

  const held = json(await sluice("get-pipeline-state", "--name", "gated"));
  expect(held.pipelineName).toBe("gated");
  expect(held.pipelineVersion).toBe(1);
  expect(held.stageStates.map((s: any) => s.stageName)).toEqual(["Source", "Build"]);
  expect(held.stageStates[0].inboundTransitionState).toEqual({ enabled: true });
  expect(held.stageStates[1].inboundTransitionState).toMatchObject({
    enabled: false,
    disabledReason: "release freeze",
    lastChangedBy: "user/admin",
  });

  const { pipelineExecutionId: id } = json(await sluice("start-pipeline-execution", "--name", "gated"));
  const waitingState = await eventually(async () => {
    const state = json(await sluice("get-pipeline-state", "--name", "gated"));
    return state.stageStates[1].waitingExecutions.length > 0 ? state : undefined;
  }, 20000);
  expect(waitingState.stageStates[1].waitingExecutions).toEqual([
    {
      pipelineExecutionId: id,
      waitingReason: expect.objectContaining({
        code: "TRANSITION_DISABLED",
        blockedBy: expect.objectContaining({ disabledReason: "release freeze", disabledBy: "user/admin" }),
      }),
    },
  ]);
  expect(waitingState.stageStates[0].latestExecution).toEqual({
    pipelineExecutionId: id,
    status: "Succeeded",
  });
  expect(waitingState.stageStates[0].actionStates[0]).toMatchObject({
    actionName: "Checkout",
    latestExecution: { pipelineExecutionId: id, status: "Succeeded", attempt: 1 },
  });

  const waiter = spawnSluice("wait-pipeline-execution", "--pipeline-execution-id", id, "--timeout", "60");
  await waiter.stderrMatching(/ execution waiting to enter stage Build\n/);
  const enabled = await sluice("enable-stage-transition", "--name", "gated", "--stage-name", "Build");
  expect(enabled.code).toBe(0);
  expect(json(enabled)).toEqual({
    stageName: "Build",
    enabled: true,
    disabledReason: null,
    disabledBy: null,
    disabledAt: null,
  });
  const waited = await waiter.exited;
  expect(waited.code).toBe(0);
  expect(json(waited)).toMatchObject({ pipelineExecutionId: id, status: "Succeeded" });

  const open = json(await sluice("get-pipeline-state", "--name", "gated"));
  expect(open.stageStates[1].inboundTransitionState).toMatchObject({ enabled: true, disabledReason: null });
  expect(open.stageStates[1].waitingExecutions).toEqual([]);
  expect(open.stageStates[1].latestExecution).toEqual({ pipelineExecutionId: id, status: "Succeeded" });
}, 90000);

it("waits at an approval: timeout, Ctrl-C, stop --abandon, then approval by names lets a waited execution succeed", async () => {
  await createPipeline(sourceThen("approve", { name: "Prod", actions: [manualApproval("Ok")] }), false);
  const [summary] = json(
    await sluice("list-pipeline-executions", "--name", "approve"),
  ).pipelineExecutionSummaries;
  const first = { id: summary.pipelineExecutionId as string };
  await eventually(async () => {
    const got = json(await sluice("get-pipeline-execution", "--pipeline-execution-id", first.id));
    return got.pipelineExecution.stages[1].actions[0].approvalPending === true;
  }, 20000);

  // --timeout passes first: exit 1, the summary so far, and the execution goes on.
  const timedOut = await sluice(
    "wait-pipeline-execution",
    "--pipeline-execution-id",
    first.id,
    "--timeout",
    "1",
  );
  expect(timedOut.code).toBe(1);
  expect(json(timedOut)).toMatchObject({ pipelineExecutionId: first.id, status: "InProgress" });
  expect(timedOut.stderr).toContain(
    `error: timed out after 1 s: execution ${first.id} is still InProgress; it goes on running`,
  );
  expect(timedOut.stderr).toContain(
    `waits for approval: sluice put-approval-result --pipeline-execution-id ${first.id} --stage-name Prod --action-name Ok --approve`,
  );

  // Ctrl-C stops the waiting (exit 130), not the execution.
  const interrupted = spawnSluice("wait-pipeline-execution", "--pipeline-execution-id", first.id);
  // Its handler is set before the first read, which printed this: Ctrl-C now stops the waiting
  // whether the subscription is open yet or not.
  await interrupted.stderrMatching(/waits for approval/);
  interrupted.child.kill("SIGINT");
  const afterInterrupt = await interrupted.exited;
  expect(afterInterrupt.code).toBe(130);
  expect(afterInterrupt.stderr).toContain(
    `error: stopped waiting: execution ${first.id} is still InProgress`,
  );
  expect(
    json(await sluice("get-pipeline-execution", "--pipeline-execution-id", first.id)).pipelineExecution
      .status,
  ).toBe("InProgress");

  const stopped = await sluice(
    "stop-pipeline-execution",
    "--pipeline-execution-id",
    first.id,
    "--abandon",
    "--reason",
    "replaced by the CI release",
  );
  expect(stopped.code).toBe(0);
  expect(json(stopped)).toMatchObject({ pipelineExecutionId: first.id, pipelineName: "approve" });
  const afterStop = await sluice(
    "wait-pipeline-execution",
    "--pipeline-execution-id",
    first.id,
    "--timeout",
    "30",
  );
  expect(afterStop.code).toBe(1);
  expect(json(afterStop)).toMatchObject({ status: "Stopped" });
  expect(afterStop.stderr).toMatch(
    new RegExp(`^error: execution ${first.id} of pipeline approve ended Stopped`, "m"),
  );
  const abandoned = json(await sluice("get-pipeline-execution", "--pipeline-execution-id", first.id));
  expect(abandoned.pipelineExecution.stages[1].actions[0].status).toBe("Abandoned");

  // A released execution waits at the approval; a script approves it by names.
  const release = spawnSluice("start-pipeline-execution", "--name", "approve", "--wait", "--timeout", "60");
  const [, id] = await release.stderrMatching(/started execution (\S+) of pipeline approve/);
  await release.stderrMatching(/ action Prod\/Ok waits for approval: /);
  const approved = await sluice(
    "put-approval-result",
    "--pipeline-execution-id",
    id!,
    "--stage-name",
    "Prod",
    "--action-name",
    "Ok",
    "--approve",
    "--summary",
    "LGTM",
  );
  expect(approved.code).toBe(0);
  expect(json(approved)).toMatchObject({
    name: "Ok",
    status: "Succeeded",
    approvalPending: false,
    approval: { approved: true, summary: "LGTM", by: "user/admin" },
  });
  const done = await release.exited;
  expect(done.code).toBe(0);
  expect(json(done)).toMatchObject({
    pipelineExecutionId: id,
    status: "Succeeded",
    stages: [{ name: "Source" }, { name: "Prod", status: "Succeeded" }],
  });
  expect(eventLines(done.stderr)).toContainEqual(expect.stringMatching(/ action Prod\/Ok approved$/));

  const twice = await sluice(
    "put-approval-result",
    "--pipeline-execution-id",
    id!,
    "--stage-name",
    "Prod",
    "--action-name",
    "Ok",
    "--reject",
  );
  expect(twice).toEqual({
    code: 1,
    stdout: "",
    stderr: `error: action Prod/Ok of execution ${id} is not waiting for a decision (status: Succeeded)\n`,
  });
}, 120000);
