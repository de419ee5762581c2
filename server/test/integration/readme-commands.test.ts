/**
 * A new user following the README: every `npx sluice …` and `curl` command of README.md and
 * cli/README.md, run as written from the repository root (bash, `npx` finding the workspace's bin)
 * against a real server, a real agent process (agent/dist) and the demo pipeline `npm start` makes
 * (scripts/demo-pipeline.mjs, run as a process), with the README's environment. Only what ties the
 * commands to this machine is substituted: the data directory (`.sluice/data/`), the server's address,
 * `/tmp/`, and `<id>` (the first pipelineExecutionId an earlier command printed). Each command must
 * exit 0, as documented; an approval is given once the execution waits for it, as a user would.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { builtinRegistry } from "../../src/domain/action-types/builtins";
import { validatePipeline } from "../../src/domain/pipeline/validation/validate";
import { killAgents, startAgentProcess } from "../support/agent-process";
import { NATS_URL } from "../support/nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(240_000);

const ROOT = path.join(__dirname, "..", "..", "..");
const DEMO_SCRIPT = path.join(ROOT, "scripts", "demo-pipeline.mjs");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The `sh` code blocks of a markdown file. */
function shellBlocks(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
}

/**
 * The commands to run, block by block: a block with a curl command is one script (its heredoc spans
 * lines); in the others, each line that runs `npx sluice` or exports the CLI's environment.
 */
function readmeCommands(): string[][] {
  return ["README.md", "cli/README.md"].flatMap((file) =>
    shellBlocks(file).flatMap((block) => {
      if (/^curl /m.test(block)) return [[block]];
      const lines = block.split("\n").filter((line) => /^(npx sluice |export SLUICE_)/.test(line));
      return lines.length > 0 ? [lines] : [];
    }),
  );
}

let t: TestServer;
let dataDir: string;
let scratch: string;
/** `<id>`: the last pipelineExecutionId printed before the first command that uses it. */
let executionId: string | null = null;
let idUsed = false;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-readme-"));
  // The agent runs as root, and so each job as an unprivileged uid of its own: the demo's jobs read
  // its repository and deploy into the data directory (scripts/demo-pipeline.mjs opens that one).
  fs.chmodSync(scratch, 0o755);
  dataDir = path.join(scratch, "data");
  fs.mkdirSync(dataDir);
  // what the server writes on its first start when SLUICE_ADMIN_TOKEN is unset
  fs.writeFileSync(path.join(dataDir, "admin-token"), `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  t = await startTestServer({ dataDir });
  const { createAgentToken } = dataOf(
    await t.gql(`mutation { createAgentToken(description: "local agent") { token } }`),
  );
  startAgentProcess({
    natsUrl: NATS_URL,
    serverUrl: t.url,
    prefix: t.natsPrefix,
    token: createAgentToken.token,
    name: "local",
  });
  await eventually(
    async () => dataOf(await t.gql(`{ agents { status } }`)).agents.some((a: any) => a.status !== "offline"),
    30_000,
    "the agent online",
  );
});

afterAll(async () => {
  for (const child of running) child.kill("SIGKILL"); // a command a failed test left waiting
  await killAgents();
  await t?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** The command as this machine runs it: the README's data directory, server and /tmp are the test's. */
function localized(line: string): string {
  // a trailing comment stays as written (it may name the <id> it explains)
  const at = line.search(/\s#\s/);
  const [command, comment] = at < 0 ? [line, ""] : [line.slice(0, at), line.slice(at)];
  return `${command
    .replaceAll("/tmp/", `${scratch}/`) // first: the others are under os.tmpdir()
    .replaceAll(".sluice/data/", `${dataDir}/`)
    .replaceAll("http://localhost:4000/graphql", t.url)
    .replaceAll("<id>", () => {
      if (!executionId) throw new Error(`no earlier command printed a pipelineExecutionId for: ${command}`);
      idUsed = true;
      return executionId;
    })}${comment}`;
}

const userEnv = () => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? scratch,
  // where `sluice login` keeps its session: the test's, not the machine user's
  XDG_CONFIG_HOME: path.join(scratch, "config"),
  // npx must find the workspace's bin, never fetch a package called sluice
  npm_config_yes: "false",
  npm_config_offline: "true",
  npm_config_update_notifier: "false",
});

/** Runs `script` with bash in the repository root, after the block's exports. */
function bash(exports: string[], command: string) {
  const script = ["set -o pipefail", ...exports.map(localized), localized(command)].join("\n");
  const child = spawn("bash", ["--noprofile", "--norc", "-c", script], { cwd: ROOT, env: userEnv() });
  running.add(child);
  child.on("exit", () => running.delete(child));
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { done, stderr: () => stderr };
}

async function approvalWaits(id: string): Promise<boolean> {
  const { pipelineExecution } = dataOf(
    await t.gql(
      `query ($id: ID!) { pipelineExecution(id: $id) { stages { actions { approvalPending } } } }`,
      {
        id,
      },
    ),
  );
  return pipelineExecution.stages.some((s: any) => s.actions.some((a: any) => a.approvalPending));
}

it("creates the demo pipeline as npm start does, from a document that validates", async () => {
  const printed = await promisify(execFile)(process.execPath, [DEMO_SCRIPT, "--print"], {
    env: { ...userEnv(), SLUICE_DATA_DIR: dataDir },
  });
  const document = JSON.parse(printed.stdout);
  expect(validatePipeline(document, builtinRegistry)).toMatchObject({ ok: true });
  expect(document.stages.map((s: any) => s.name)).toEqual(["Source", "Build", "Test", "Approval", "Deploy"]);

  const created = await promisify(execFile)(process.execPath, [DEMO_SCRIPT], {
    env: { ...userEnv(), SLUICE_DATA_DIR: dataDir, SLUICE_ENDPOINT: t.url },
  });
  expect(created.stdout.trim()).toBe("created: http://localhost:3000/pipelines/demo");
  // once per installation
  const again = await promisify(execFile)(process.execPath, [DEMO_SCRIPT], {
    env: { ...userEnv(), SLUICE_DATA_DIR: dataDir, SLUICE_ENDPOINT: t.url },
  });
  expect(again.stdout.trim()).toBe("kept: http://localhost:3000/pipelines/demo");
});

it("runs every npx sluice and curl command of the READMEs as written, each exiting 0", async () => {
  const blocks = readmeCommands();
  const all = blocks.flat();
  expect(all.filter((c) => c.startsWith("npx sluice")).length).toBeGreaterThanOrEqual(15);
  expect(all.some((c) => c.startsWith("TOKEN=") && c.includes("curl"))).toBe(true);

  const ran: string[] = [];
  const exports: string[] = []; // one terminal session: what a block exported stays set
  for (const block of blocks) {
    exports.push(...block.filter((line) => line.startsWith("export ")));
    for (const command of block.filter((line) => !line.startsWith("export "))) {
      if (command.includes("put-approval-result")) {
        // The README's user looks at get-pipeline-state first: the demo's execution runs Source,
        // Build and Test before it waits for the approval.
        if (!executionId) throw new Error(`no execution id printed before: ${command}`);
        await eventually(
          () => approvalWaits(executionId!),
          120_000,
          `execution ${executionId} at its approval`,
        );
      }
      const run = bash(exports, command);
      const result = command.includes("--wait") ? await approveWhileWaiting(run, exports) : await run.done;
      if (result.code !== 0) {
        throw new Error(
          `${command}\nexited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
        );
      }
      if (!idUsed) executionId = printedExecutionId(command, result.stdout) ?? executionId;
      ran.push(command);
      check(command, result);
    }
  }
  expect(ran).toEqual(all.filter((line) => !line.startsWith("export ")));

  // The demo's Deploy ran on this machine: the approved build is in the data directory.
  expect(fs.readFileSync(path.join(dataDir, "demo-deployed", "greeting.txt"), "utf8")).toMatch(/^hello/);
});

/** The execution id a command printed: the newest one of a listing, or a pipelineExecutionId. */
function printedExecutionId(command: string, stdout: string): string | null {
  if (command.includes("list-pipeline-executions"))
    return JSON.parse(stdout).pipelineExecutionSummaries[0]?.pipelineExecutionId ?? null;
  return /"pipelineExecutionId": "([0-9a-f-]{36})"/.exec(stdout)?.[1] ?? null;
}

/**
 * `start-pipeline-execution --wait` on the demo: its stderr says when the approval waits and prints the
 * command that gives it; the test runs that command, as the user would (or click in the dashboard).
 */
async function approveWhileWaiting(run: ReturnType<typeof bash>, exports: string[]): Promise<Run> {
  let finished = false;
  void run.done.then(() => (finished = true));
  const seen = await eventually(
    async () => {
      const line = /waits for approval: (sluice put-approval-result [^\n]+)/.exec(run.stderr())?.[1];
      if (line) return { line };
      return finished ? { line: null } : undefined;
    },
    120_000,
    "the approval line on stderr",
  );
  if (seen.line) {
    const answer = await bash(exports, `npx ${seen.line}`).done;
    if (answer.code !== 0) throw new Error(`npx ${seen.line} exited ${answer.code}: ${answer.stderr}`);
  }
  return run.done; // ended before its approval: the exit code check shows its output
}

/** What the README says each command prints. */
function check(command: string, result: Run) {
  if (command.includes("text/event-stream")) {
    // executionEvents over SSE: the (ended) execution's history, then the end of the stream.
    expect(result.stdout).toMatch(/^event: next\ndata: \{"data":\{"executionEvents":\{"sequence":1,/m);
    expect(result.stdout).toContain('"type":"EXECUTION_SUCCEEDED"');
    expect(result.stdout.trimEnd()).toMatch(/event: complete\ndata:$/);
  } else if (command.includes("curl")) {
    expect(JSON.parse(result.stdout)).toEqual({
      data: { createPipelineV2: { pipeline: { name: "hello", version: 1 } } },
    });
  } else if (command.includes("list-pipelines")) {
    expect(JSON.parse(result.stdout).pipelines.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(["demo", "hello", "web-app"]),
    );
  } else if (command.includes("--format aws")) {
    const aws = JSON.parse(fs.readFileSync(path.join(scratch, "web-app-aws.json"), "utf8"));
    expect(Object.keys(aws).sort()).toEqual(["metadata", "pipeline"]);
  } else if (command.includes("wait-pipeline-execution")) {
    expect(JSON.parse(result.stdout)).toMatchObject({
      pipelineExecutionId: executionId,
      status: "Succeeded",
    });
  } else if (command.includes("logs --execution")) {
    expect(result.stdout).toContain("built dist/greeting.txt");
  } else if (command.includes("sluice whoami")) {
    // after `sluice login` with SLUICE_TOKEN emptied: the stored session is the one sent
    expect(JSON.parse(result.stdout).identity.principal).toBe("user/alice");
  } else if (command.includes("--wait")) {
    expect(JSON.parse(result.stdout)).toMatchObject({ pipelineName: "demo", status: "Succeeded" });
  }
}
