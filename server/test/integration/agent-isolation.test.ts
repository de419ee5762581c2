/**
 * Jobs cannot reach the agent (issue 11): real agent processes (agent/dist) running as root, as
 * they do on a build host, a real server, PostgreSQL and NATS. Each job runs as a uid of its own;
 * jobs try what a hostile build would: read the agent's token (its environment in /proc, its
 * command line, its token file), read another job that runs at the same time, list the work
 * directory, read a root-only file, and make the agent read a root-only file for it through a
 * link planted in place of SLUICE_OUTPUT. Each fails, and a normal release still builds and hands
 * its artifact on.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { killAgents, startAgentProcess, type AgentProcess } from "../support/agent-process";
import { gitRepository } from "../support/documents";
import { NATS_URL } from "../support/nats";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(120_000);

let t: TestServer;
let scratch: string;
let repo: string;
/** World-writable: where two jobs of different uids tell each other where they are. */
let exchange: string;
let rootOnly: string;
let rootOnlySecret: string;
let tokenFile: string;
let token: string;
let envAgent: AgentProcess;
let fileAgent: AgentProcess;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root: the agent runs jobs as other users");
  t = await startTestServer();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-isolation-"));
  // The jobs' users read the repository and write to `exchange`; nothing else of the scratch.
  fs.chmodSync(scratch, 0o755);
  repo = gitRepository(path.join(scratch, "repo"), "the application\n");
  exchange = path.join(scratch, "exchange");
  fs.mkdirSync(exchange);
  fs.chmodSync(exchange, 0o777);
  rootOnlySecret = `root-only-${crypto.randomBytes(8).toString("hex")}`;
  rootOnly = path.join(scratch, "root-only.env");
  // NAME=value: were the agent to read it as the job's SLUICE_OUTPUT, it would become a variable.
  fs.writeFileSync(rootOnly, `LEAKED=${rootOnlySecret}\n`, { mode: 0o600 });

  ({ token } = dataOf(
    await t.gql(`mutation { createAgentToken(description: "isolation") { token } }`),
  ).createAgentToken);
  tokenFile = path.join(scratch, "agent-token");
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });

  // One agent with its token in its environment, one with a token file, each in a pool of its own.
  envAgent = startAgentProcess({
    natsUrl: NATS_URL,
    serverUrl: t.url,
    prefix: t.natsPrefix,
    token,
    name: "iso-env",
    concurrency: 2,
  });
  fileAgent = startAgentProcess({
    natsUrl: NATS_URL,
    serverUrl: t.url,
    prefix: t.natsPrefix,
    token,
    tokenFile,
    name: "iso-file",
    pool: "tokenfile",
  });
  await eventually(
    async () => {
      const { agents } = dataOf(await t.gql(`{ agents { name status } }`));
      return ["iso-env", "iso-file"].every((n) =>
        agents.some((a: any) => a.name === n && a.status !== "offline"),
      );
    },
    30_000,
    "both agents online",
  );
});

afterAll(async () => {
  await killAgents();
  await t?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const shell = (category: string, name: string, extra: Record<string, unknown>) => ({
  name,
  actionTypeId: { category, owner: "Sluice", provider: "Shell", version: "1" },
  ...extra,
});

/** `PROBE <what>: read` when `command` succeeds, `PROBE <what>: denied` otherwise. */
const probe = (what: string, command: string) =>
  `if ${command}; then echo "PROBE ${what}: read"; else echo "PROBE ${what}: denied"; fi`;

/** Waits (at most a minute) for a file another job makes. */
const waitFor = (file: string) =>
  `for i in $(seq 1 600); do [ -e "${file}" ] && break; sleep 0.1; done; [ -e "${file}" ]`;

async function execution(pipeline: string) {
  const { pipeline: p } = dataOf(
    await t.gql(
      `query ($n: String!) { pipeline(name: $n) { executions(first: 1) { nodes { id status
         stages { name actions { id name status summary outputVariables } } } } } }`,
      { n: pipeline },
    ),
  );
  return p.executions.nodes[0];
}

async function finished(pipeline: string) {
  return eventually(
    async () => {
      const e = await execution(pipeline);
      return e && ["Succeeded", "Failed", "Stopped", "Cancelled"].includes(e.status) ? e : false;
    },
    90_000,
    `${pipeline} to finish`,
  );
}

function action(e: any, name: string) {
  for (const stage of e.stages) for (const a of stage.actions) if (a.name === name) return a;
  throw new Error(`no action ${name}`);
}

async function logOf(actionExecutionId: string): Promise<string> {
  const lines: string[] = [];
  let after = 0;
  for (;;) {
    const { actionLog } = dataOf(
      await t.gql(
        `query ($id: ID!, $after: Int) { actionLog(actionExecutionId: $id, after: $after, first: 1000) {
           nodes { text } hasNextPage endCursor } }`,
        { id: actionExecutionId, after },
      ),
    );
    lines.push(...actionLog.nodes.map((l: any) => l.text));
    if (!actionLog.hasNextPage) return lines.join("\n");
    after = actionLog.endCursor;
  }
}

/** Creates the pipeline, which starts its first execution. */
async function create(input: Record<string, unknown>) {
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, { input }),
  );
}

const checkout = (region?: string) => ({
  name: "Source",
  actions: [
    {
      name: "Checkout",
      actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
      configuration: { Repository: `file://${repo}`, Branch: "main" },
      outputArtifacts: [{ name: "Src" }],
      ...(region ? { region } : {}),
    },
  ],
});

const uidOf = (log: string) => Number(/^uid (\d+)$/m.exec(log)?.[1]);

it("two jobs at once run as two unprivileged uids, and neither reaches the agent, the other job or root's files", async () => {
  const holderSecret = `holder-${crypto.randomBytes(8).toString("hex")}`;
  const env = JSON.stringify({
    AGENT_PID: String(envAgent.pid),
    EX: exchange,
    ROOT_ONLY: rootOnly,
    WORK_DIR: envAgent.workDir,
    HOLDER_SECRET: holderSecret,
  });
  await create({
    name: "isolation",
    stages: [
      checkout(),
      {
        name: "Build",
        actions: [
          // Keeps a secret in its workspace until the prober has tried to read it; builds meanwhile.
          shell("Build", "Holder", {
            inputArtifacts: [{ name: "Src" }],
            outputArtifacts: [{ name: "Bin" }],
            configuration: {
              EnvironmentVariables: env,
              OutputFiles: "out/**",
              Commands: [
                'echo "uid $(id -u)"',
                'stat -c "workspace %a %u" "$SLUICE_WORKSPACE"',
                'echo "$HOLDER_SECRET" > "$SLUICE_WORKSPACE/secret.txt"',
                'echo "$SLUICE_WORKSPACE" > "$EX/ws"',
                waitFor("$EX/done"),
                'touch "$HOME/home-is-writable"',
                'mkdir -p out && (cat app.txt; echo "built by $(id -u)") > out/bin.txt',
              ].join("\n"),
            },
          }),
          shell("Build", "Prober", {
            inputArtifacts: [{ name: "Src" }],
            configuration: {
              EnvironmentVariables: env,
              Commands: [
                'echo "uid $(id -u)"',
                waitFor("$EX/ws"),
                'ws=$(cat "$EX/ws")',
                probe("other-workspace-file", 'cat "$ws/secret.txt"'),
                probe("other-workspace-list", 'ls "$ws"'),
                probe("work-dir-list", 'ls "$WORK_DIR"'),
                probe("agent-environ", 'cat "/proc/$AGENT_PID/environ"'),
                probe("root-only-file", 'cat "$ROOT_ONLY"'),
                // Readable by every user, whatever the agent does: it must not hold the token.
                'echo "cmdline: $(tr "\\0" " " < "/proc/$AGENT_PID/cmdline")"',
                // The agent reads SLUICE_OUTPUT as root after the commands: it must not follow this.
                'rm -f "$SLUICE_OUTPUT" && ln -s "$ROOT_ONLY" "$SLUICE_OUTPUT"',
                'touch "$EX/done"',
              ].join("\n"),
            },
          }),
        ],
      },
      {
        name: "Deploy",
        actions: [
          shell("Deploy", "Ship", {
            inputArtifacts: [{ name: "Bin" }],
            configuration: {
              Commands: [
                'echo "uid $(id -u)"',
                "cat out/bin.txt",
                // The downloaded input belongs to the job's user: it can change it.
                'stat -c "input %u" out/bin.txt',
                "echo shipped >> out/bin.txt",
              ].join("\n"),
            },
          }),
        ],
      },
    ],
  });
  const e = await finished("isolation");
  const holderLog = await logOf(action(e, "Holder").id);
  const proberLog = await logOf(action(e, "Prober").id);
  const shipLog = await logOf(action(e, "Ship").id);
  expect({ status: e.status, proberLog }).toMatchObject({ status: "Succeeded" });

  const holderUid = uidOf(holderLog);
  const proberUid = uidOf(proberLog);
  const shipUid = uidOf(shipLog);
  for (const uid of [holderUid, proberUid, shipUid]) {
    expect(uid).toBeGreaterThanOrEqual(60000);
    expect(uid).toBeLessThanOrEqual(60999);
  }
  expect(proberUid).not.toBe(holderUid);
  expect(holderLog).toContain(`workspace 700 ${holderUid}`);

  for (const what of [
    "other-workspace-file",
    "other-workspace-list",
    "work-dir-list",
    "agent-environ",
    "root-only-file",
  ]) {
    expect(proberLog).toMatch(new RegExp(`^PROBE ${what}: denied$`, "m"));
    expect(proberLog).not.toMatch(new RegExp(`^PROBE ${what}: read$`, "m"));
  }
  expect(proberLog).toMatch(/^cmdline: sluice-agent/m);
  for (const secret of [token, holderSecret, rootOnlySecret]) {
    expect(proberLog).not.toContain(secret);
  }
  expect(action(e, "Prober").outputVariables ?? {}).not.toHaveProperty("LEAKED");
  expect(proberLog).toContain("SLUICE_OUTPUT ignored: it leads outside the job's workspace");

  // The release itself: built under one uid, handed on, and shipped by another.
  expect(shipLog).toContain("the application");
  expect(shipLog).toContain(`built by ${holderUid}`);
  expect(shipLog).toContain(`input ${shipUid}`);
});

it("a job cannot read the agent's token file, nor its environment", async () => {
  await create({
    name: "token-file",
    stages: [
      checkout("tokenfile"),
      {
        name: "Build",
        actions: [
          shell("Build", "Thief", {
            region: "tokenfile",
            inputArtifacts: [{ name: "Src" }],
            configuration: {
              EnvironmentVariables: JSON.stringify({
                TOKEN_FILE: tokenFile,
                AGENT_PID: String(fileAgent.pid),
              }),
              Commands: [
                'echo "uid $(id -u)"',
                probe("token-file", 'cat "$TOKEN_FILE"'),
                probe("agent-environ", 'cat "/proc/$AGENT_PID/environ"'),
                'echo "cmdline: $(tr "\\0" " " < "/proc/$AGENT_PID/cmdline")"',
              ].join("\n"),
            },
          }),
        ],
      },
    ],
  });
  const e = await finished("token-file");
  const log = await logOf(action(e, "Thief").id);
  expect({ status: e.status, log }).toMatchObject({ status: "Succeeded" });
  expect(uidOf(log)).toBeGreaterThanOrEqual(60000);
  expect(log).toMatch(/^PROBE token-file: denied$/m);
  expect(log).toMatch(/^PROBE agent-environ: denied$/m);
  expect(log).toMatch(/^cmdline: sluice-agent/m);
  expect(log).not.toContain(token);
});

it("the agent that got its token from its environment no longer shows it there, even to root", () => {
  // Root may read /proc/<pid>/environ: what it finds is the variable with its value blanked.
  const environ = fs.readFileSync(`/proc/${envAgent.pid}/environ`, "utf8");
  expect(environ).not.toContain(token);
  expect(fs.readFileSync(`/proc/${envAgent.pid}/cmdline`, "utf8")).not.toContain(token);
});

it("the agent, root, does not pack what a link the job planted on the way to its directory points to", async () => {
  // Root's own directory with a `Src` in it: were the job's `inputs` a link to it, the agent would
  // find a real directory at inputs/Src, and pack root's files into the job's artifact.
  const rootParent = path.join(scratch, "root-parent");
  fs.mkdirSync(path.join(rootParent, "Src"), { recursive: true });
  fs.chmodSync(rootParent, 0o700);
  fs.writeFileSync(path.join(rootParent, "Src", "secret.txt"), rootOnlySecret, { mode: 0o600 });
  await create({
    name: "planted-link",
    stages: [
      checkout(),
      {
        name: "Build",
        actions: [
          shell("Build", "Swap", {
            inputArtifacts: [{ name: "Src" }],
            // No OutputFiles: the whole working directory (inputs/Src) is the artifact.
            outputArtifacts: [{ name: "Out" }],
            configuration: {
              EnvironmentVariables: JSON.stringify({ ROOT_PARENT: rootParent }),
              Commands: 'cd "$SLUICE_WORKSPACE"\nmv inputs inputs.real\nln -s "$ROOT_PARENT" inputs',
            },
          }),
        ],
      },
    ],
  });
  const e = await finished("planted-link");
  const swap = action(e, "Swap");
  expect({ status: e.status, swap }).toMatchObject({
    status: "Failed",
    swap: {
      status: "Failed",
      summary: "Output artifact Out: its directory leads outside the job's workspace (a symbolic link)",
    },
  });
  const { pipelineExecution } = dataOf(
    await t.gql(`query ($id: ID!) { pipelineExecution(id: $id) { artifacts { name } } }`, { id: e.id }),
  );
  expect(pipelineExecution.artifacts.map((a: any) => a.name)).not.toContain("Out");
});
