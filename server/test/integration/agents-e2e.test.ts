/**
 * End to end: a real server, real agent processes (agent/dist) with work directories of their
 * own, a real git repository, and a NATS of this test's own. One agent runs in a network
 * namespace from which only that NATS is reachable. Then the failures: NATS restarted mid-run,
 * an agent killed mid-job, a running job stopped, an agent drained, a token revoked, and a crafted
 * artifact that tries to write outside the workspace.
 */
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { killAgents, startAgentProcess, type AgentProcess } from "../support/agent-process";
import { canCreateNetns, createNetns, type NetworkNamespace } from "../support/netns";
import { startPrivateNats, type PrivateNats } from "../support/private-nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { TestWorker } from "../support/worker";

jest.setTimeout(120_000);

let netns: NetworkNamespace | null = null;
let nats: PrivateNats;
let t: TestServer;
let repo: string;
let scratch: string;
let token: string;

beforeAll(async () => {
  // The NATS listens on the host side of the veth pair, and the server on every address: the
  // agent inside the namespace reaches both there (NATS, and the server's HTTP address for its
  // jobs' artifacts), and nothing else of this host.
  if (!canCreateNetns()) throw new Error("this test needs root and iproute2 to create a network namespace");
  netns = createNetns();
  nats = await startPrivateNats(netns.hostAddress);
  // Leases of three intervals (the default is six): the lost-agent tests wait for them.
  t = await startTestServer({
    env: {
      NATS_URL: nats.url,
      HOST: "0.0.0.0",
      SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1",
      SLUICE_LEASE_SECONDS: "3",
    },
  });
  await t.server.messagingReady;
  ({ token } = await createToken("e2e agents"));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-"));
  // The agents run as root, and so each job as an unprivileged uid of its own: the jobs read the
  // repository and write their pid files here.
  fs.chmodSync(scratch, 0o777);
  repo = makeRepository(path.join(scratch, "repo"));
});

afterAll(async () => {
  await killAgents();
  await t?.stop();
  await nats?.stop();
  netns?.destroy();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], {
    cwd,
    stdio: "pipe",
  })
    .toString()
    .trim();
}

function makeRepository(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, "app.txt"), "hello from the repository\n");
  fs.writeFileSync(path.join(dir, "numbers.sh"), 'for i in $(seq 1 300); do echo "line $i"; done\n');
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "First commit");
  return dir;
}

async function createToken(description: string): Promise<{ id: string; token: string }> {
  const { createAgentToken } = dataOf(
    await t.gql(`mutation ($d: String!) { createAgentToken(description: $d) { id token } }`, {
      d: description,
    }),
  );
  return createAgentToken;
}

function agent(name: string, options: { inNamespace?: boolean; token?: string; concurrency?: number } = {}) {
  return startAgentProcess({
    natsUrl: nats.url,
    serverUrl:
      options.inNamespace && netns
        ? `http://${netns.hostAddress}:${new URL(t.url).port}`
        : `http://127.0.0.1:${new URL(t.url).port}`,
    prefix: t.natsPrefix,
    token: options.token ?? token,
    name,
    concurrency: options.concurrency ?? 1,
    ...(options.inNamespace && netns ? { wrap: netns.wrap } : {}),
  });
}

async function waitOnline(...names: string[]) {
  await eventually(
    async () => {
      const { agents } = dataOf(await t.gql(`{ agents { name status } }`));
      return names.every((n) => agents.some((a: any) => a.name === n && a.status !== "offline"));
    },
    20_000,
    `agents ${names.join(", ")} online`,
  );
}

const source = (name = "Checkout") => ({
  name,
  actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
  configuration: { Repository: `file://${repo}`, Branch: "main" },
  outputArtifacts: [{ name: "Src" }],
  namespace: "SourceVariables",
});

const shell = (category: "Build" | "Test" | "Deploy", name: string, extra: Record<string, unknown>) => ({
  name,
  actionTypeId: { category, owner: "Sluice", provider: "Shell", version: "1" },
  ...extra,
});

/** Source, then one Build stage whose single Shell action reads `Src` and runs `commands`. */
function buildAfterSource(name: string, actionName: string, commands: string) {
  return {
    name,
    stages: [
      { name: "Source", actions: [source()] },
      {
        name: "Build",
        actions: [
          shell("Build", actionName, {
            inputArtifacts: [{ name: "Src" }],
            configuration: { Commands: commands },
          }),
        ],
      },
    ],
  };
}

async function create(input: Record<string, unknown>) {
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, { input }),
  );
}

const EXECUTION = /* GraphQL */ `
  query ($n: String!) {
    pipeline(name: $n) {
      executions(first: 1) {
        nodes {
          id
          status
          statusSummary
          sourceRevisions {
            actionName
            revisionId
            revisionSummary
          }
          artifacts {
            name
            size
            sha256
          }
          stages {
            name
            status
            actions {
              id
              name
              status
              attempt
              summary
              approvalPending
              outputVariables
              agent {
                name
              }
              attempts {
                id
                attempt
                status
                summary
                failureCause
                agent {
                  name
                }
              }
            }
          }
        }
      }
    }
  }
`;

async function latest(pipeline: string) {
  const { pipeline: p } = dataOf(await t.gql(EXECUTION, { n: pipeline }));
  return p.executions.nodes[0];
}

function actionOf(execution: any, name: string) {
  for (const stage of execution.stages) for (const a of stage.actions) if (a.name === name) return a;
  throw new Error(`no action ${name}`);
}

async function until(pipeline: string, test: (execution: any) => boolean, what: string, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const execution = await latest(pipeline);
      return execution && test(execution) ? execution : false;
    },
    timeoutMs,
    what,
  );
}

async function logOf(actionExecutionId: string): Promise<string[]> {
  const lines: string[] = [];
  let after = 0;
  for (;;) {
    const { actionLog } = dataOf(
      await t.gql(
        `query ($id: ID!, $after: Int) { actionLog(actionExecutionId: $id, after: $after, first: 1000) {
           nodes { sequence stream text } hasNextPage endCursor } }`,
        { id: actionExecutionId, after },
      ),
    );
    lines.push(...actionLog.nodes.map((l: any) => l.text));
    if (!actionLog.hasNextPage) return lines;
    after = actionLog.endCursor;
  }
}

describe("a release across two agents, one of them in a namespace that reaches only NATS and the server", () => {
  let outside: AgentProcess;
  let inside: AgentProcess;
  beforeAll(async () => {
    outside = agent("outside");
    inside = agent("inside", { inNamespace: true });
    await waitOnline("outside", "inside");
  });
  afterAll(async () => {
    await outside.kill9();
    await inside.kill9();
  });

  it("runs Source → Build (two in parallel) → Approval → Deploy, with artifacts, variables and logs", async () => {
    const commit = git(repo, "rev-parse", "HEAD");
    await create({
      name: "e2e-release",
      stages: [
        { name: "Source", actions: [source()] },
        {
          name: "Build",
          actions: [
            shell("Build", "BuildA", {
              namespace: "A",
              inputArtifacts: [{ name: "Src" }],
              outputArtifacts: [{ name: "ArtA" }],
              configuration: {
                Commands: [
                  'echo "building #{SourceVariables.CommitId}"',
                  "mkdir -p out && cp app.txt out/a.txt",
                  "echo A_VAR=alpha >> $SLUICE_OUTPUT",
                  "sleep 1",
                ].join("\n"),
                OutputFiles: "out/**",
              },
            }),
            shell("Build", "BuildB", {
              namespace: "B",
              inputArtifacts: [{ name: "Src" }],
              outputArtifacts: [{ name: "ArtB" }],
              configuration: {
                Commands:
                  "bash numbers.sh\nmkdir -p out && echo beta-file > out/b.txt\necho B_VAR=beta >> $SLUICE_OUTPUT\nsleep 1",
                OutputFiles: "out/**",
              },
            }),
          ],
        },
        {
          name: "Approve",
          actions: [
            {
              name: "Gate",
              actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
            },
          ],
        },
        {
          name: "Deploy",
          actions: [
            shell("Deploy", "Ship", {
              inputArtifacts: [{ name: "ArtA" }, { name: "ArtB" }],
              configuration: {
                Commands:
                  'cat "$SLUICE_INPUT_ArtA/out/a.txt" "$SLUICE_INPUT_ArtB/out/b.txt"\necho "#{A.A_VAR} #{B.B_VAR} #{SourceVariables.CommitId}"',
              },
            }),
          ],
        },
      ],
    });
    const waiting = await until(
      "e2e-release",
      (e) => actionOf(e, "Gate").approvalPending === true,
      "the approval",
    );
    const a = actionOf(waiting, "BuildA");
    const b = actionOf(waiting, "BuildB");
    expect([a.status, b.status]).toEqual(["Succeeded", "Succeeded"]);
    // Each agent runs one job at a time, so the two parallel builds ran on the two agents.
    expect(new Set([a.agent.name, b.agent.name])).toEqual(new Set(["outside", "inside"]));
    expect(actionOf(waiting, "Checkout").outputVariables).toMatchObject({
      CommitId: commit,
      BranchName: "main",
      CommitMessage: "First commit",
    });
    expect(a.outputVariables).toEqual({ A_VAR: "alpha" });

    dataOf(
      await t.gql(
        `mutation ($id: ID!) { putApprovalResult(actionExecutionId: $id, approved: true, summary: "ship it") { id } }`,
        {
          id: actionOf(waiting, "Gate").id,
        },
      ),
    );
    const done = await until("e2e-release", (e) => e.status !== "InProgress", "the release to finish");
    expect(done.status).toBe("Succeeded");

    const ship = await logOf(actionOf(done, "Ship").id);
    expect(ship).toEqual(
      expect.arrayContaining(["hello from the repository", "beta-file", `alpha beta ${commit}`]),
    );
    const numbers = (await logOf(b.id)).filter((line) => line.startsWith("line "));
    expect(numbers).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i + 1}`));
    // The same log through the CLI.
    const printed = await cli("logs", "--execution", done.id, "--action", "BuildB");
    expect(printed.code).toBe(0);
    expect(printed.stdout.split("\n").filter((line) => line.startsWith("line "))).toEqual(numbers);
    expect(await logOf(a.id)).toContain(`building ${commit}`);

    // The artifact downloads over HTTP with the API token, and its bytes match the recorded hash.
    const artA = done.artifacts.find((x: any) => x.name === "ArtA");
    const response = await fetch(`${t.url.replace(/\/graphql$/, "")}/artifacts/${done.id}/ArtA`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.length).toBe(artA.size);
    expect(crypto.createHash("sha256").update(bytes).digest("hex")).toBe(artA.sha256);
    expect(gunzipSync(bytes).toString("latin1")).toContain("hello from the repository");
  });

  it("survives a NATS restart mid-run: the run completes and no log line is lost", async () => {
    await create(
      buildAfterSource(
        "e2e-nats-restart",
        "Slow",
        'for i in $(seq 1 40); do echo "tick $i"; sleep 0.1; done',
      ),
    );
    await until("e2e-nats-restart", (e) => actionOf(e, "Slow").status === "InProgress", "the build to start");
    await nats.restart(1500);
    const done = await until(
      "e2e-nats-restart",
      (e) => e.status !== "InProgress",
      "the run to finish",
      90_000,
    );
    expect(done.status).toBe("Succeeded");
    const ticks = (await logOf(actionOf(done, "Slow").id)).filter((l) => l.startsWith("tick "));
    expect(ticks).toEqual(Array.from({ length: 40 }, (_, i) => `tick ${i + 1}`));
  });
});

describe("agents failing and being stopped", () => {
  afterEach(async () => {
    await killAgents();
  });

  it("an agent killed mid-job is lost within the lease, and the retry succeeds on the other agent", async () => {
    const orphanPid = path.join(scratch, "orphan.pid");
    const first = agent("victim");
    await waitOnline("victim");
    // A SIGKILLed agent cannot end its job's processes itself: its reaper does (agent/src/exec/reaper.ts).
    await create(
      buildAfterSource(
        "e2e-kill",
        "Work",
        `if [ "$SLUICE_ATTEMPT" = 1 ]; then echo $$ > ${orphanPid}; sleep 60; fi\necho finished`,
      ),
    );
    await until("e2e-kill", (e) => actionOf(e, "Work").status === "InProgress", "the build to start");
    const second = agent("rescuer");
    await waitOnline("rescuer");
    await first.kill9();
    const done = await until("e2e-kill", (e) => e.status !== "InProgress", "the retry to finish");
    expect(done.status).toBe("Succeeded");
    const work = actionOf(done, "Work");
    expect(work.attempts[0]).toMatchObject({
      status: "Failed",
      failureCause: "AGENT_LOST",
      agent: { name: "victim" },
    });
    expect(work.attempts[0].summary).toMatch(/^Agent victim lost: no heartbeat for 3 s\.$/);
    expect(work.attempts[1]).toMatchObject({ status: "Succeeded", agent: { name: "rescuer" } });
    await second.terminate();
    const orphan = Number(fs.readFileSync(orphanPid, "utf8").trim());
    try {
      await eventually(async () => !running(orphan), 5000, "the killed agent's job process to be ended");
    } finally {
      killGroup(orphan);
    }
  });

  it("stopping an execution with abandon kills the job's processes", async () => {
    const runner = agent("stopper");
    await waitOnline("stopper");
    const pidFile = path.join(scratch, "sleeper.pid");
    await create(buildAfterSource("e2e-stop", "Hang", `sleep 300 &\necho $! > ${pidFile}\nwait`));
    await until("e2e-stop", (e) => actionOf(e, "Hang").status === "InProgress", "the job to start");
    await eventually(
      async () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim().length > 0,
      20_000,
      "the pid file",
    );
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    expect(alive(pid)).toBe(true);
    const execution = await latest("e2e-stop");
    dataOf(
      await t.gql(
        `mutation ($id: ID!) { stopExecution(executionId: $id, abandon: true, reason: "wrong branch") { status } }`,
        {
          id: execution.id,
        },
      ),
    );
    await eventually(async () => !alive(pid), 5000, "the job's process to be gone");
    const stopped = await until("e2e-stop", (e) => e.status === "Stopped", "Stopped");
    expect(actionOf(stopped, "Hang").status).toBe("Abandoned");
    expect(runner.running()).toBe(true);
  });

  it("stop and wait lets the running job finish, then the execution is Stopped and goes no further", async () => {
    const runner = agent("patient");
    await waitOnline("patient");
    await create({
      name: "e2e-stop-wait",
      stages: [
        { name: "Source", actions: [source()] },
        {
          name: "Build",
          actions: [
            shell("Build", "Finish", {
              inputArtifacts: [{ name: "Src" }],
              configuration: { Commands: "sleep 2\necho finished anyway" },
            }),
          ],
        },
        {
          name: "Deploy",
          actions: [
            shell("Deploy", "Ship", {
              inputArtifacts: [{ name: "Src" }],
              configuration: { Commands: "true" },
            }),
          ],
        },
      ],
    });
    const running = await until(
      "e2e-stop-wait",
      (e) => actionOf(e, "Finish").status === "InProgress",
      "the job",
    );
    const { stopExecution } = dataOf(
      await t.gql(
        `mutation ($id: ID!) { stopExecution(executionId: $id, abandon: false, reason: "release freeze") { status } }`,
        { id: running.id },
      ),
    );
    expect(stopExecution.status).toBe("Stopping");
    const stopped = await until("e2e-stop-wait", (e) => e.status !== "Stopping", "Stopped");
    expect(stopped.status).toBe("Stopped");
    expect(actionOf(stopped, "Finish").status).toBe("Succeeded");
    expect(await logOf(actionOf(stopped, "Finish").id)).toContain("finished anyway");
    expect(actionOf(stopped, "Ship").status).toBeNull();
    expect(runner.running()).toBe(true);
  });

  it("SIGTERM drains an agent: its running job finishes, then it leaves", async () => {
    const drained = agent("drained");
    await waitOnline("drained");
    await create(buildAfterSource("e2e-drain", "Finish", "sleep 2\necho drained fine"));
    const running = await until(
      "e2e-drain",
      (e) => actionOf(e, "Finish").status === "InProgress",
      "the job to start",
    );
    const following = cli("logs", "--execution", running.id, "--action", "Finish", "--follow");
    const exit = await drained.terminate();
    expect(exit.code).toBe(0);
    const followed = await following;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain("drained fine");
    const done = await latest("e2e-drain");
    expect(actionOf(done, "Finish").status).toBe("Succeeded");
    const { agents } = dataOf(await t.gql(`{ agents { name status } }`));
    expect(agents.find((a: any) => a.name === "drained")?.status).toBe("offline");
  });

  it("revoking a busy agent's token stops it and retries its job on another agent, every time (5 trials)", async () => {
    // The revoked agent's own report of the job it kills, the cancel's result and the retry it
    // could still take all race the lease moved to now: each trial must end the same way.
    for (let trial = 1; trial <= 5; trial++) {
      const name = `e2e-revoke-${trial}`;
      const doomed = await createToken(`to revoke ${trial}`);
      const revokedAgent = agent(`revoked-${trial}`, { token: doomed.token });
      await waitOnline(`revoked-${trial}`);
      await create(
        buildAfterSource(name, "Long", 'if [ "$SLUICE_ATTEMPT" = 1 ]; then sleep 60; fi\necho done'),
      );
      await until(name, (e) => actionOf(e, "Long").status === "InProgress", "the job to start");
      const other = agent(`trusted-${trial}`);
      await waitOnline(`trusted-${trial}`);
      dataOf(await t.gql(`mutation ($id: ID!) { revokeAgentToken(id: $id) { id } }`, { id: doomed.id }));
      const exit = await revokedAgent.exited;
      expect(exit.code).toBe(3);
      const done = await until(name, (e) => e.status !== "InProgress", "the job to move");
      const long = actionOf(done, "Long");
      expect({ trial, status: done.status, attempts: long.attempts.length }).toEqual({
        trial,
        status: "Succeeded",
        attempts: 2,
      });
      expect(long.attempts[0]).toMatchObject({
        failureCause: "AGENT_LOST",
        agent: { name: `revoked-${trial}` },
      });
      expect(long.attempts[1]).toMatchObject({ status: "Succeeded", agent: { name: `trusted-${trial}` } });
      expect((await other.terminate()).code).toBe(0);
    }
  });

  it("refuses a crafted artifact that reaches outside the workspace, and writes nothing there", async () => {
    const victimDir = path.join(scratch, "must-stay-empty");
    fs.mkdirSync(victimDir, { recursive: true });
    dataOf(
      await t.gql(`mutation { createCustomActionType(input: { category: "Source", provider: "Evil", version: "1",
        inputArtifactDetails: { minimumCount: 0, maximumCount: 0 }, outputArtifactDetails: { minimumCount: 1, maximumCount: 1 } }) { id { provider } } }`),
    );
    const evil = { category: "Source" as const, owner: "Custom" as const, provider: "Evil", version: "1" };
    const archive = gzipSync(
      tarOf([{ name: `../../../../../../..${victimDir}/pwned.txt`, body: "owned\n" }]),
    );
    const worker = await TestWorker.start(
      t.natsPrefix,
      [evil],
      () => ({ outcome: "Succeeded", artifacts: { Src: archive } }),
      "evil-worker",
      nats.url,
    );
    const runner = agent("careful");
    await waitOnline("careful");
    try {
      await create({
        name: "e2e-crafted",
        stages: [
          {
            name: "Source",
            actions: [{ name: "Evil", actionTypeId: evil, outputArtifacts: [{ name: "Src" }] }],
          },
          {
            name: "Build",
            actions: [
              shell("Build", "Unpack", {
                inputArtifacts: [{ name: "Src" }],
                configuration: { Commands: "ls -R" },
              }),
            ],
          },
        ],
      });
      const done = await until("e2e-crafted", (e) => e.status !== "InProgress", "the build to fail");
      expect(done.status).toBe("Failed");
      const unpack = actionOf(done, "Unpack");
      expect(unpack.status).toBe("Failed");
      expect(unpack.summary).toMatch(/\.\./);
      expect(fs.readdirSync(victimDir)).toEqual([]);
      expect(runner.running()).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});

const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");

/** Runs the built `sluice` CLI against the test server. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, "--endpoint", t.url, "--token", ADMIN_TOKEN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Ends the process group a job of this test started (the job runs as its group's leader). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Alive and not a zombie waiting for whoever adopted it. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A ustar archive written by hand, so that it can hold what no honest packer writes. */
function tarOf(entries: Array<{ name: string; body: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body);
    const header = Buffer.alloc(512);
    const name = Buffer.from(entry.name);
    if (name.length > 100) {
      // ustar prefix field for longer names
      const cut = entry.name.lastIndexOf("/", 155);
      header.write(entry.name.slice(cut + 1), 0, 100);
      header.write(entry.name.slice(0, cut), 345, 155);
    } else header.write(entry.name, 0, 100);
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(body.length.toString(8).padStart(11, "0") + "\0", 124);
    header.write("00000000000\0", 136);
    header.write("        ", 148);
    header.write("0", 156);
    header.write("ustar\0", 257);
    header.write("00", 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
