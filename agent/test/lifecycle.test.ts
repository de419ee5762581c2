/**
 * The agent's own life on a real NATS with a fake server: registration (refusals, retries, again
 * when the server forgot it), agent heartbeats, revocation, drain; and the `sluice-agent` bin as a
 * process: exit 2 for bad options, 3 when refused, SIGTERM drain with the real Shell provider.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { AgentFatalError } from "../src/agent";
import type { RunningAgent } from "../src/runtime/start";
import { startTestAgent, stopAgent, TEST_TOKEN } from "./support/agents";
import { FakeServer, NATS_URL, waitFor } from "./support/fake-server";
import { alive, fnProvider, sleepProvider, type, type SleepRecord } from "./support/test-providers";

const AGENT_DIR = path.resolve(__dirname, "..");
const BIN = path.join(AGENT_DIR, "dist", "src", "main.js");

let server: FakeServer;
let agent: RunningAgent | undefined;

beforeAll(async () => {
  server = await FakeServer.start();
  // The bin tests run the built agent, as operators do.
  const build = spawnSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: AGENT_DIR,
      encoding: "utf8",
    },
  );
  if (build.status !== 0) throw new Error(`building the agent failed:\n${build.stdout}${build.stderr}`);
}, 60_000);
afterEach(async () => {
  await stopAgent(agent);
  agent = undefined;
  server.registerAnswers = [];
  server.registerDefault = "ok";
  server.heartbeatAnswer = "ok";
});
afterAll(async () => {
  await server?.stop();
});

describe("registration", () => {
  it.each([
    ["IncompatibleProtocol", "Protocol version 1 is older than this server supports (version 2 only)."],
    ["Unauthenticated", "Unknown token."],
    ["InvalidRequest", "providers[0].provider: must be 1–35 characters."],
    ["SomethingNew", "A refusal this agent has never heard of."],
  ])("is refused for good with %s: the agent gives up with the server's message", async (code, error) => {
    server.registerDefault = { code, error };
    const started = startTestAgent(server, [fnProvider(type("Refused"), jest.fn())]);
    await expect(started).rejects.toBeInstanceOf(AgentFatalError);
    await expect(started).rejects.toMatchObject({ code, message: error, exitCode: 3 });
  });

  it("is retried with backoff while the server is Unavailable or silent", async () => {
    server.registerAnswers = [{ code: "Unavailable", error: "The database is down." }, "silent"];
    const before = server.registrations.length;
    agent = await startTestAgent(server, [fnProvider(type("Retried"), jest.fn())]);
    expect(server.registrations.length - before).toBe(3);
  }, 20_000);

  it("sends the agent's pool, labels, providers, capacity and version", async () => {
    const before = server.registrations.length;
    agent = await startTestAgent(server, [fnProvider(type("Described"), jest.fn())], {
      pool: "gpu",
      concurrency: 3,
      labels: { os: "linux", arch: "x64" },
    });
    expect(server.registrations[before]).toMatchObject({
      protocolVersion: 3,
      token: TEST_TOKEN,
      name: "test-agent",
      pool: "gpu",
      labels: { os: "linux", arch: "x64" },
      providers: [type("Described")],
      capacity: 3,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it("happens again when a heartbeat reply says UnknownAgent", async () => {
    agent = await startTestAgent(server, [fnProvider(type("Forgotten"), jest.fn())]);
    const before = server.registrations.length;
    server.heartbeatAnswer = { code: "UnknownAgent", error: "No agent with this id." };
    await waitFor("a new registration", () => server.registrations.length > before, 5000);
    server.heartbeatAnswer = "ok";
  });
});

describe("agent heartbeats", () => {
  it("list the running jobs", async () => {
    const provider = sleepProvider(type("Listed"));
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(server.job(provider.id, { configuration: { Seconds: "30" } }));
    const beat = await waitFor(
      "a heartbeat listing the job",
      () =>
        server.agentHeartbeats.find(
          (h) => h.agentId === agent!.agentId && h.running.some((r) => r.jobId === job.jobId),
        ),
      5000,
    );
    expect(beat).toMatchObject({
      draining: false,
      leaving: false,
      running: [{ jobId: job.jobId, attempt: 1 }],
    });
    await server.cancel(job, "Abandoned", { agentId: agent.agentId });
    await waitFor("the complete", () => server.completeOf(job));
  });

  it("answered Unauthenticated stop every job as cancelled and exit with status 3", async () => {
    const records: SleepRecord[] = [];
    const provider = sleepProvider(type("Revoked"), records);
    const running = await startTestAgent(server, [provider]);
    const job = await server.publishJob(server.job(provider.id, { configuration: { Seconds: "30" } }));
    const record = await waitFor("the sleep to start", () => records.find((r) => r.jobId === job.jobId));
    server.heartbeatAnswer = { code: "Unauthenticated", error: "The token of agent test-agent was revoked." };
    expect(await running.done).toBe(3);
    expect(running.fatalMessage).toBe("The token of agent test-agent was revoked.");
    expect(alive(record.pid)).toBe(false);
    expect(server.completeOf(job)).toMatchObject({
      outcome: "Failed",
      failureType: "JobFailed",
      summary: "Cancelled: agent token revoked",
    });
  });
});

describe("drain", () => {
  it("lets a running job finish, then says it is leaving and exits 0", async () => {
    const provider = sleepProvider(type("Drained"));
    agent = await startTestAgent(server, [provider]);
    const agentId = agent.agentId;
    const job = await server.publishJob(server.job(provider.id, { configuration: { Seconds: "1" } }));
    await waitFor("the accept", () => server.accepts.find((a) => a.jobId === job.jobId));
    agent.stop();
    // Drain announced, no new jobs taken.
    await waitFor("a draining heartbeat", () =>
      server.agentHeartbeats.find((h) => h.agentId === agentId && h.draining),
    );
    const late = await server.publishJob(server.job(provider.id, { configuration: { Seconds: "1" } }));
    expect(await agent.done).toBe(0);
    expect(server.completeOf(job)).toMatchObject({ outcome: "Succeeded" });
    const last = server.agentHeartbeats.filter((h) => h.agentId === agentId).at(-1);
    expect(last).toMatchObject({ leaving: true, running: [] });
    expect(server.accepts.find((a) => a.jobId === late.jobId)).toBeUndefined();
    expect(await server.queuedJobs()).toBe(1);
    await server.jsm.streams.purge(server.names.streams.jobs);
    agent = undefined;
  });

  it("stops jobs still running at the drain timeout as shut down", async () => {
    const records: SleepRecord[] = [];
    const provider = sleepProvider(type("DrainTimeout"), records);
    agent = await startTestAgent(server, [provider], { drainTimeoutSeconds: 1 });
    const job = await server.publishJob(server.job(provider.id, { configuration: { Seconds: "30" } }));
    const record = await waitFor("the sleep to start", () => records.find((r) => r.jobId === job.jobId));
    agent.stop();
    expect(await agent.done).toBe(0);
    expect(record.stopReason?.kind).toBe("Shutdown");
    expect(alive(record.pid)).toBe(false);
    expect(server.completeOf(job)).toMatchObject({
      outcome: "Failed",
      summary: "Cancelled: agent shut down",
    });
    agent = undefined;
  });

  it("a second stop aborts running jobs at once", async () => {
    const records: SleepRecord[] = [];
    const provider = sleepProvider(type("Forced"), records);
    agent = await startTestAgent(server, [provider], { drainTimeoutSeconds: 600 });
    const job = await server.publishJob(server.job(provider.id, { configuration: { Seconds: "30" } }));
    await waitFor("the sleep to start", () => records.find((r) => r.jobId === job.jobId));
    agent.stop();
    agent.stop();
    const started = Date.now();
    expect(await agent.done).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.completeOf(job)).toMatchObject({
      outcome: "Failed",
      summary: "Cancelled: agent shut down",
    });
    agent = undefined;
  });
});

describe("the sluice-agent bin", () => {
  // Every bin this block starts ends with its test, even one that failed half way (a bin left
  // running would keep jest from exiting).
  const started = new Set<ChildProcess>();
  afterEach(() => {
    for (const child of started)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    started.clear();
  });

  function run(args: string[], env: Record<string, string> = {}): ChildProcess & { output: () => string } {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        SLUICE_LOG_LEVEL: "info",
        // The test NATS has no authentication.
        SLUICE_NATS_INSECURE: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.add(child);
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    return Object.assign(child, { output: () => output });
  }
  /** Its exit code, also when it exited before being asked (no "exit" event would come then). */
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve(child.exitCode)
      : new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  it("exits 2 naming every bad option", async () => {
    const child = run(["--concurrency", "0", "--pool", "no pool"], { SLUICE_AGENT_TOKEN: "short" });
    expect(await exited(child)).toBe(2);
    expect(child.output()).toContain("--concurrency (SLUICE_AGENT_CONCURRENCY): must be at least 1");
    expect(child.output()).toContain("--pool (SLUICE_AGENT_POOL)");
    expect(child.output()).toContain("--token (SLUICE_AGENT_TOKEN)");
    expect(child.output()).not.toContain("short");
  });

  it("exits 3 with the server's message when registration is refused, never logging the token", async () => {
    server.registerDefault = { code: "Unauthenticated", error: "Unknown or revoked token." };
    const child = run(["--nats", NATS_URL, "--prefix", server.prefix, "--name", "bin-refused"], {
      SLUICE_AGENT_TOKEN: TEST_TOKEN,
    });
    expect(await exited(child)).toBe(3);
    expect(child.output()).toContain(
      "sluice-agent: registration refused (Unauthenticated): Unknown or revoked token.",
    );
    expect(child.output()).not.toContain(TEST_TOKEN);
  });

  it("keeps its token out of /proc/<pid>/cmdline and /proc/<pid>/environ once it has read it", async () => {
    const bin = (name: string, args: string[], env: Record<string, string>) =>
      run(
        [
          "--nats",
          NATS_URL,
          "--prefix",
          server.prefix,
          "--name",
          name,
          "--providers",
          "Build/Sluice/Shell@1",
          ...args,
        ],
        env,
      );
    // A bin that never registers fails the test with what it printed.
    const registered = (name: string, child: ReturnType<typeof run>) =>
      waitFor(`${name} to register`, () => server.registrations.find((r) => r.name === name), 60_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}; it printed:\n${child.output()}`);
        },
      );
    // The token on the command line (which every user of the host may read), then in the environment.
    const secret = `${TEST_TOKEN}_argv`;
    const byArgv = bin("bin-argv", ["--token", secret], {});
    const byEnv = bin("bin-env", [], { SLUICE_AGENT_TOKEN: TEST_TOKEN });
    try {
      await registered("bin-argv", byArgv);
      await registered("bin-env", byEnv);
      const cmdline = fs.readFileSync(`/proc/${byArgv.pid}/cmdline`, "utf8");
      expect(cmdline).not.toContain(secret);
      expect(cmdline.replace(/\0+$/, "")).toBe("sluice-agent");
      const environ = fs.readFileSync(`/proc/${byEnv.pid}/environ`, "utf8").split("\0");
      expect(environ.join("\n")).not.toContain(TEST_TOKEN);
      // The variable is still listed, its value overwritten in place.
      expect(environ).toContain("SLUICE_AGENT_TOKEN=");
    } finally {
      // Stopped; one that does not exit on SIGTERM within 10 s is killed, so that a failure above
      // is what the test reports rather than a timeout of this cleanup.
      for (const child of [byArgv, byEnv]) child.kill("SIGTERM");
      await Promise.all(
        [byArgv, byEnv].map(async (child) => {
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited(child);
          clearTimeout(timer);
        }),
      );
    }
  }, 150_000);

  const SHELL = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" } as const;

  /** The bin with the real Shell provider, registered, and a job of `commands` published to it. */
  async function shellBinWithJob(name: string, commands: string) {
    const child = run(
      ["--nats", NATS_URL, "--prefix", server.prefix, "--name", name, "--providers", "Build/Sluice/Shell@1"],
      { SLUICE_AGENT_TOKEN: TEST_TOKEN },
    );
    const exit = exited(child);
    await waitFor("the bin to register", () => server.registrations.find((r) => r.name === name), 40_000);
    const job = await server.publishJob(server.job(SHELL, { configuration: { Commands: commands } }));
    return { child, exit, job };
  }

  it("drains on SIGTERM: the running Shell job finishes, a leaving heartbeat is sent, exit 0", async () => {
    const { child, exit, job } = await shellBinWithJob("bin-drain", "echo begun\nsleep 1\necho finished");
    await waitFor("the job to start", () => server.logText(job, "stdout").includes("begun"), 10_000);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    // Published before the bin exits; its delivery to this test's subscription may come after.
    const complete = await waitFor("the complete", () => server.completeOf(job), 10_000);
    expect(complete).toMatchObject({ outcome: "Succeeded" });
    expect(server.logText(job, "stdout")).toBe("begun\nfinished\n");
    const beats = server.agentHeartbeats.filter((h) => h.agentId === complete!.agentId);
    expect(beats.some((h) => h.draining)).toBe(true);
    expect(beats.at(-1)).toMatchObject({ leaving: true });
  }, 90_000);

  it("SIGKILLed, leaves no job process behind: its reaper ends the job's process group", async () => {
    // A job with a background process of its own, as builds start servers and watchers.
    const { child, exit, job } = await shellBinWithJob("bin-killed", "sleep 300 &\necho pids $$ $!\nwait");
    const line = await waitFor(
      "the job to start",
      () => /pids (\d+) (\d+)/.exec(server.logText(job, "stdout")),
      10_000,
    );
    const jobPids = [Number(line[1]), Number(line[2])];
    const reaper = childrenOf(child.pid!).find((pid) => !jobPids.includes(pid));
    expect(reaper).toBeDefined();
    expect(jobPids.every(running)).toBe(true);
    child.kill("SIGKILL");
    await exit;
    try {
      await waitFor(
        "the job's processes to be ended",
        () => jobPids.every((pid) => !running(pid)) || null,
        5_000,
      );
      await waitFor("the reaper to exit", () => !running(reaper!) || null, 5_000);
    } finally {
      // Should the reaper have failed, this test ends what it started (the job leads its group).
      if (jobPids.some(running)) process.kill(-jobPids[0]!, "SIGKILL");
    }
  }, 90_000);
});

/** The pids of a process's children (Linux /proc). */
function childrenOf(pid: number): number[] {
  return fs
    .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

/** True while the process exists and is not a zombie waiting for whoever adopted it. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
