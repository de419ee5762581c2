/**
 * The AWS CLI's own command lines for the commands `sluice` shares with `aws codepipeline` (option
 * names, --query paths and --output text as in the AWS CLI documentation), run with the built CLI in
 * place of `aws codepipeline`, against a real server and a TestWorker over NATS. Also: pagination
 * tokens across calls, --cli-input-json with AWS's parameter names, and `logs --follow` on an action
 * that starts later.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { checkout, manualApproval, shellBuild, sourceThen } from "../support/documents";
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
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], () => ({
    outcome: "Succeeded",
    summary: "built",
  }));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cli-aws-"));
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

/**
 * An `aws codepipeline` command line, split as a shell would (the AWS CLI documentation's examples),
 * run with `sluice`: exit 0 expected; resolves with stdout.
 */
async function aws(commandLine: string): Promise<string> {
  const words = [...commandLine.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  expect(words.slice(0, 2)).toEqual(["aws", "codepipeline"]);
  const run = await sluice(...words.slice(2));
  if (run.code !== 0) throw new Error(`${commandLine}\nexited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

const EXECUTIONS = `query ($name: String!) { pipeline(name: $name) { executions(first: 20) { nodes { id status } } } }`;

async function executionsOf(name: string): Promise<{ id: string; status: string }[]> {
  return dataOf(await t.gql(EXECUTIONS, { name })).pipeline.executions.nodes;
}

async function settled(name: string, count: number): Promise<{ id: string; status: string }[]> {
  return eventually(
    async () => {
      const nodes = await executionsOf(name);
      const done = nodes.length >= count && nodes.every((n) => n.status !== "InProgress");
      return done ? nodes : undefined;
    },
    30000,
    `${count} executions of ${name} to end`,
  );
}

async function create(document: Record<string, unknown>): Promise<void> {
  const file = path.join(dir, `${String(document.name)}.json`);
  fs.writeFileSync(file, JSON.stringify(document));
  expect((await sluice("create-pipeline", "--cli-input-json", `file://${file}`)).code).toBe(0);
}

it("runs the AWS CLI's command lines for the shared commands, with sluice in place of aws codepipeline", async () => {
  await create(sourceThen("web", { name: "Build", actions: [shellBuild("Compile", "make")] }));
  await settled("web", 1);
  const started = (
    await aws(
      "aws codepipeline start-pipeline-execution --name web --query pipelineExecutionId --output text",
    )
  ).trim();
  const [newest, oldest] = await settled("web", 2);
  expect(newest!.id).toBe(started);

  // Listing, newest first: the AWS CLI's paths and its pagination.
  expect(
    await aws(
      "aws codepipeline list-pipeline-executions --pipeline-name web --max-items 1 --query 'pipelineExecutionSummaries[0].pipelineExecutionId' --output text",
    ),
  ).toBe(`${started}\n`);
  const token = (
    await aws(
      "aws codepipeline list-pipeline-executions --pipeline-name web --max-items 1 --query NextToken --output text",
    )
  ).trim();
  expect(
    await aws(
      `aws codepipeline list-pipeline-executions --pipeline-name web --starting-token ${token} --query 'pipelineExecutionSummaries[].[pipelineExecutionId,status]' --output text`,
    ),
  ).toBe(`${oldest!.id}\tSucceeded\n`);
  expect(
    await aws(
      "aws codepipeline list-pipeline-executions --pipeline-name web --page-size 1 --query 'length(pipelineExecutionSummaries)'",
    ),
  ).toBe("2\n");
  expect(
    await aws(
      "aws codepipeline list-pipeline-executions --pipeline-name web --no-paginate --page-size 1 --query 'pipelineExecutionSummaries[0].trigger.triggerType' --output text",
    ),
  ).toBe("StartPipelineExecution\n");

  expect(await aws("aws codepipeline list-pipelines --query 'pipelines[].name' --output text")).toBe("web\n");
  expect(
    await aws(
      `aws codepipeline get-pipeline-execution --pipeline-name web --pipeline-execution-id ${started} --query 'pipelineExecution.status' --output text`,
    ),
  ).toBe("Succeeded\n");
  expect(
    await aws(
      "aws codepipeline get-pipeline-state --name web --query 'stageStates[*].stageName' --output text",
    ),
  ).toBe("Source\tBuild\n");
  expect(
    await aws(
      "aws codepipeline get-pipeline-state --name web --query 'stageStates[?stageName==`Build`].actionStates[0].latestExecution.status' --output text",
    ),
  ).toBe("Succeeded\n");
  expect(
    await aws(
      "aws codepipeline get-pipeline --name web --format aws --query 'pipeline.stages[*].name' --output text",
    ),
  ).toBe("Source\tBuild\n");

  // Action executions: every attempt, of one execution or of all.
  expect(
    await aws(
      `aws codepipeline list-action-executions --pipeline-name web --filter pipelineExecutionId=${started} --query 'sort(actionExecutionDetails[].actionName)' --output text`,
    ),
  ).toBe("Checkout\tCompile\n");
  expect(
    await aws(
      "aws codepipeline list-action-executions --pipeline-name web --query 'length(actionExecutionDetails)'",
    ),
  ).toBe("4\n");

  // Transitions, as the AWS CLI names them.
  await aws(
    "aws codepipeline disable-stage-transition --pipeline-name web --stage-name Build --transition-type Inbound --reason freeze",
  );
  expect(
    await aws(
      "aws codepipeline get-pipeline-state --name web --query 'stageStates[1].inboundTransitionState.[enabled,disabledReason]' --output text",
    ),
  ).toBe("False\tfreeze\n");
  await aws(
    "aws codepipeline enable-stage-transition --pipeline-name web --stage-name Build --transition-type Inbound",
  );
  expect(
    await aws(
      "aws codepipeline get-pipeline-state --name web --query 'stageStates[1].inboundTransitionState.enabled' --output text",
    ),
  ).toBe("True\n");

  // The AWS CLI's input JSON for get-pipeline-execution (its parameter names), and a table.
  const input = JSON.stringify({ pipelineName: "web", pipelineExecutionId: started });
  const fromInput = await sluice(
    "get-pipeline-execution",
    "--cli-input-json",
    input,
    "--query",
    "pipelineExecution.pipelineExecutionId",
  );
  expect(fromInput).toEqual({ code: 0, stderr: "", stdout: `"${started}"\n` });
  const table = await aws("aws codepipeline get-pipeline-state --name web --output table");
  expect(table.split("\n")[1]).toMatch(/^\|\s+GetPipelineState\s+\|$/);
  expect(table).toMatch(/\|\|\s+stageStates\s+\|\|/);
}, 90000);

it("logs --follow waits for an action that starts after an approval, then follows it to its end", async () => {
  await create({
    name: "gated",
    stages: [
      { name: "Source", actions: [checkout()] },
      { name: "Gate", actions: [manualApproval("Ok")] },
      { name: "Build", actions: [shellBuild("Compile", "make")] },
    ],
  });
  const id = await eventually(async () => (await executionsOf("gated"))[0]?.id, 20000, "the first execution");

  // Before the approval, the build has not started: without --follow that is an error.
  const early = await sluice("logs", "--execution", id, "--action", "Compile");
  expect(early.code).toBe(1);
  expect(early.stderr).toBe("error: action Build/Compile has not started yet\n");

  const child = spawn(process.execPath, [CLI, "logs", "--execution", id, "--action", "Compile", "--follow"], {
    env: env(),
    cwd: dir,
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  await eventually(
    async () => stderr.includes("waiting for it to start") || undefined,
    20000,
    `stderr:\n${stderr}`,
  );

  const approvedAt = await eventually(
    async () => {
      const run = await sluice(
        "put-approval-result",
        "--pipeline-name",
        "gated",
        "--pipeline-execution-id",
        id,
        "--stage-name",
        "Gate",
        "--action-name",
        "Ok",
        "--result",
        '{"summary":"ok","status":"Approved"}',
        "--query",
        "approvedAt",
        "--output",
        "text",
      );
      return run.code === 0 ? run.stdout.trim() : undefined; // the approval may not wait yet
    },
    20000,
    "the approval",
  );
  expect(approvedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(await exited).toBe(0);
  expect(stderr).toBe(
    `action Build/Compile has not started yet; waiting for it to start (Ctrl-C stops waiting)\n`,
  );
  const [execution] = await settled("gated", 1);
  expect(execution!.status).toBe("Succeeded");

  // A rejected approval ends the execution before the build starts: the waiting logs exit 1.
  const second = (
    await aws(
      "aws codepipeline start-pipeline-execution --name gated --query pipelineExecutionId --output text",
    )
  ).trim();
  const waiting = spawn(
    process.execPath,
    [CLI, "logs", "--execution", second, "--action", "Compile", "--follow"],
    {
      env: env(),
      cwd: dir,
    },
  );
  let waitingStderr = "";
  waiting.stderr.on("data", (chunk: Buffer) => void (waitingStderr += chunk.toString("utf8")));
  const waitingExited = new Promise<number | null>((resolve) => waiting.on("close", (code) => resolve(code)));
  await eventually(
    async () => waitingStderr.includes("waiting for it to start") || undefined,
    20000,
    waitingStderr,
  );
  await eventually(
    async () => {
      const run = await sluice(
        "put-approval-result",
        "--pipeline-execution-id",
        second,
        "--stage-name",
        "Gate",
        "--action-name",
        "Ok",
        "--reject",
      );
      return run.code === 0 || undefined;
    },
    20000,
    "the rejection",
  );
  expect(await waitingExited).toBe(1);
  expect(waitingStderr).toMatch(
    new RegExp(
      `^error: action Build/Compile has not started yet, and execution ${second} ended Failed\n`,
      "m",
    ),
  );
}, 90000);

it("the commands added for the API's custom action types, webhooks and audit log work against the server", async () => {
  const input = {
    category: "Build",
    provider: "Make",
    version: "1",
    configurationProperties: [{ name: "Target", required: true, key: true, secret: false, queryable: false }],
    inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    tags: [{ key: "team", value: "web" }],
  };
  const created = await sluice("create-custom-action-type", "--cli-input-json", JSON.stringify(input));
  expect(created.code).toBe(0);
  expect(JSON.parse(created.stdout).actionType).toMatchObject({
    id: { category: "Build", owner: "Custom", provider: "Make", version: "1" },
    actionConfigurationProperties: [expect.objectContaining({ name: "Target", required: true })],
  });
  expect(
    await aws(
      "aws codepipeline list-action-types --query 'actionTypes[?id.owner==`Custom`].id.provider' --output text",
    ),
  ).toBe("Make\n");
  await aws("aws codepipeline delete-custom-action-type --category Build --provider Make --version 1");
  expect(
    await aws("aws codepipeline list-action-types --query 'actionTypes[?id.owner==`Custom`]' --output text"),
  ).toBe("");

  await create(sourceThen("hooked", { name: "Build", actions: [shellBuild("Compile", "make")] }));
  const hook = await sluice("create-pipeline-webhook", "--pipeline-name", "hooked");
  expect(hook.code).toBe(0);
  expect(JSON.parse(hook.stdout).webhook).toEqual({
    url: expect.stringMatching(/^http/),
    secret: expect.any(String),
  });
  expect(await sluice("delete-pipeline-webhook", "--pipeline-name", "hooked")).toMatchObject({
    code: 0,
    stdout: "",
  });

  const audit = await sluice(
    "list-audit-events",
    "--pipeline-name",
    "hooked",
    "--max-items",
    "2",
    "--query",
    "auditEvents[].operation",
    "--output",
    "text",
  );
  // The CLI sends the input-style mutations (docs/graphql.md).
  expect(audit).toMatchObject({ code: 0, stdout: "deleteWebhook\tputWebhook\n" });
}, 60000);

it("runs the AWS CLI's tag command lines, and create-pipeline's { pipeline, tags } input", async () => {
  const file = path.join(dir, "tagged.json");
  fs.writeFileSync(
    file,
    JSON.stringify({
      pipeline: sourceThen("tagged", { name: "Build", actions: [shellBuild("Compile", "make")] }),
      tags: [{ key: "Project", value: "ProjectA" }],
    }),
  );
  expect((await sluice("create-pipeline", "--cli-input-json", `file://${file}`)).code).toBe(0);
  // The ARN as a script reads it: get-pipeline's metadata.pipelineArn.
  const arn = (
    await aws(
      "aws codepipeline get-pipeline --name tagged --format aws --query metadata.pipelineArn --output text",
    )
  ).trim();
  expect(
    await aws(
      `aws codepipeline tag-resource --resource-arn ${arn} --tags key=Project,value=ProjectB key=IscontainerBased,value=true`,
    ),
  ).toBe("");
  expect(JSON.parse(await aws(`aws codepipeline list-tags-for-resource --resource-arn ${arn}`))).toEqual({
    tags: [
      { key: "IscontainerBased", value: "true" },
      { key: "Project", value: "ProjectB" },
    ],
  });
  expect(
    await aws(`aws codepipeline untag-resource --resource-arn ${arn} --tag-keys Project IscontainerBased`),
  ).toBe("");
  expect(
    await aws(`aws codepipeline list-tags-for-resource --resource-arn ${arn} --query 'length(tags)'`),
  ).toBe("0\n");
  // A reserved key: the server's path on stderr, exit 1.
  const refused = await sluice("tag-resource", "--resource-arn", arn, "--tags", "key=aws:x,value=y");
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("tags[0].key");
}, 60000);
