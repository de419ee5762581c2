/**
 * A job's life on a real NATS with a fake server: success with artifacts and logs, failures,
 * cancels, drops, timeouts, self-fencing, concurrency and pool routing, refused jobs.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createShellProvider } from "../src/providers/shell";
import type { RunningAgent } from "../src/runtime/start";
import type { JobContext } from "../src/providers/types";
import { agentConfig, fetchArtifact, startTestAgent, stopAgent, storeArtifact } from "./support/agents";
import { PROTOCOL_VERSION } from "@sluice/protocol";
import { FakeServer, waitFor, waitForAsync } from "./support/fake-server";
import { alive, fnProvider, sleepProvider, type, type SleepRecord } from "./support/test-providers";

let server: FakeServer;
let agent: RunningAgent | undefined;
let other: RunningAgent | undefined;

beforeAll(async () => {
  server = await FakeServer.start();
});
afterEach(async () => {
  await stopAgent(agent);
  await stopAgent(other);
  agent = other = undefined;
});
afterAll(async () => {
  await server?.stop();
});

/** The test agents' work directory holds no workspace once jobs ended. */
/** The job workspaces left in the agent's work directory. */
async function workspaces(): Promise<string[]> {
  return fs.readdir(agentConfig(server).workDir).catch(() => []);
}

describe("a job that succeeds", () => {
  it("downloads inputs, runs, streams its log in order, uploads outputs and completes", async () => {
    // An input artifact, stored as the previous action would have.
    const source = await fs.mkdtemp(path.join(os.tmpdir(), "agent-input-"));
    await fs.writeFile(path.join(source, "hello.txt"), "hello from the input\n");
    const executionId = "3b9e6a1c-5f2d-4c8b-a7e1-9d0f2b3c4e5a";
    const input = await storeArtifact(server, "Source", { root: source });

    let seen: JobContext | undefined;
    const provider = fnProvider(type("Success"), async (context) => {
      seen = context;
      const inputDir = context.inputs.get("Source")!;
      const text = await fs.readFile(path.join(inputDir, "hello.txt"), "utf8");
      for (let i = 1; i <= 50; i++) context.log.write("stdout", `line ${i}\n`);
      context.log.write("stderr", "a warning\n");
      context.log.write("stdout", text);
      const out = path.join(context.workspace, "out");
      await fs.mkdir(out);
      await fs.writeFile(path.join(out, "result.txt"), "built\n");
      return {
        outcome: "Succeeded",
        summary: "built it",
        outputVariables: { BuildNumber: "7" },
        outputs: { Built: { root: out } },
        testReport: { passed: 3, failed: 0, skipped: 1 },
      };
    });
    agent = await startTestAgent(server, [provider]);
    const jobId = "7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10";
    const job = await server.publishJob(
      server.job(provider.id, {
        executionId,
        jobId,
        outputArtifactKeyPrefix: `${executionId}/${jobId}/1/`,
        context: { pipelineExecutionId: executionId, variables: {} },
        inputArtifacts: [input],
        outputArtifacts: [{ name: "Built" }],
      }),
    );

    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({
      outcome: "Succeeded",
      agentId: agent.agentId,
      summary: "built it",
      outputVariables: { BuildNumber: "7" },
      testReport: { passed: 3, failed: 0, skipped: 1 },
    });
    expect(complete.outputArtifacts).toHaveLength(1);
    expect(complete.outputArtifacts[0]).toMatchObject({
      name: "Built",
      objectKey: `${executionId}/${jobId}/1/Built`,
    });
    expect(complete.outputArtifacts[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(server.accepts.filter((a) => a.jobId === job.jobId)).toHaveLength(1);
    expect(server.accepts[0]!.agent).toMatchObject({ id: agent.agentId, name: "test-agent" });
    expect(server.heartbeats.some((h) => h.jobId === job.jobId && h.agentId === agent!.agentId)).toBe(true);

    // Every chunk was stored before the complete: sequences 1..n, no gaps, ending at lastLogSequence.
    const chunks = server.logOf(job);
    expect(chunks.map((c) => c.sequence)).toEqual(chunks.map((_, i) => i + 1));
    expect(complete.lastLogSequence).toBe(chunks.length);
    const stdout = server.logText(job, "stdout");
    expect(stdout).toBe(
      Array.from({ length: 50 }, (_, i) => `line ${i + 1}\n`).join("") + "hello from the input\n",
    );
    expect(server.logText(job, "stderr")).toBe("a warning\n");
    const system = server.logText(job, "system");
    expect(system).toContain(`Job accepted on agent test-agent (${agent.agentId})`);
    expect(system).toMatch(/Downloading artifact Source \(\d+ bytes\)/);
    expect(system).toMatch(/Uploaded artifact Built \(\d+ bytes/);
    expect(system).toContain("Job succeeded: built it");

    // The output is really there, and the job message is gone from the work queue.
    const out = await fs.mkdtemp(path.join(os.tmpdir(), "agent-output-"));
    await fetchArtifact(server, complete.outputArtifacts[0]!, out);
    expect(await fs.readFile(path.join(out, "result.txt"), "utf8")).toBe("built\n");
    expect(await server.queuedJobs()).toBe(0);
    expect(seen!.workspace.startsWith(path.join(agentConfig(server).workDir, `${job.jobId}-1-`))).toBe(true);
    await expect(fs.stat(seen!.workspace)).rejects.toThrow();
    await fs.rm(source, { recursive: true, force: true });
    await fs.rm(out, { recursive: true, force: true });
  });
});

describe("a job that fails", () => {
  it("reports the provider's failure", async () => {
    const provider = fnProvider(type("Fails"), async (context) => {
      context.log.write("stderr", "error TS2322\n");
      return {
        outcome: "Failed",
        summary: "tsc exited with status 2",
        errorDetails: { message: "src/app.ts(3,7): error TS2322", code: "ExitStatus2" },
      };
    });
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(server.job(provider.id, { outputArtifacts: [{ name: "Never" }] }));
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({
      outcome: "Failed",
      failureType: "JobFailed",
      summary: "tsc exited with status 2",
      errorDetails: { message: "src/app.ts(3,7): error TS2322", code: "ExitStatus2" },
      outputArtifacts: [],
    });
    expect(server.logText(job, "stderr")).toBe("error TS2322\n");
    expect(server.logText(job, "system")).toContain("Job failed (JobFailed): tsc exited with status 2");
  });

  it("reports a provider that throws as JobFailed with the message", async () => {
    const provider = fnProvider(type("Throws"), async () => {
      throw new Error("kaboom");
    });
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(server.job(provider.id));
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({ outcome: "Failed", failureType: "JobFailed" });
    expect(complete.summary).toContain("kaboom");
    expect(complete.errorDetails?.message).toBe("kaboom");
  });

  it("fails with ConfigurationError when a declared output was not produced", async () => {
    const provider = fnProvider(type("NoOutput"), async () => ({ outcome: "Succeeded", summary: "done" }));
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(server.job(provider.id, { outputArtifacts: [{ name: "Dist" }] }));
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({
      outcome: "Failed",
      failureType: "ConfigurationError",
      failureCause: "ArtifactMissing",
    });
    expect(complete.summary).toContain("Dist");
  });

  it("fails with RevisionUnavailable when an input artifact is missing", async () => {
    const run = jest.fn();
    const provider = fnProvider(type("MissingInput"), run);
    agent = await startTestAgent(server, [provider]);
    const job = server.job(provider.id);
    const missing = {
      name: "Gone",
      objectKey: `${job.executionId}/Gone`,
      size: 10,
      sha256: "0".repeat(64),
    };
    await server.publishJob({ ...job, inputArtifacts: [missing] });
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({
      outcome: "Failed",
      failureType: "RevisionUnavailable",
      failureCause: "InputUnavailable",
    });
    expect(run).not.toHaveBeenCalled();
    // The workspace goes once the complete is stored (the agent removes it right after).
    await waitForAsync("the workspace to be removed", async () => (await workspaces()).length === 0);
  });

  it("downloads several inputs at once and names the first missing one, in the job's order", async () => {
    const run = jest.fn();
    const provider = fnProvider(type("ManyInputs"), async (context) => {
      run(
        await fs.readFile(path.join(context.inputs.get("First")!, "first.txt"), "utf8"),
        await fs.readFile(path.join(context.inputs.get("Second")!, "second.txt"), "utf8"),
        [...context.inputs.keys()],
      );
      return { outcome: "Succeeded", summary: "read both" };
    });
    agent = await startTestAgent(server, [provider]);
    const job = server.job(provider.id);
    const stored = [];
    for (const name of ["First", "Second"]) {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), "agent-input-"));
      await fs.writeFile(path.join(dir, `${name.toLowerCase()}.txt`), name);
      stored.push(await storeArtifact(server, name, { root: dir }));
      await fs.rm(dir, { recursive: true, force: true });
    }
    await server.publishJob({ ...job, inputArtifacts: stored });
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({ outcome: "Succeeded", summary: "read both" });
    expect(run).toHaveBeenCalledWith("First", "Second", ["First", "Second"]);

    const gone = (name: string) => ({
      name,
      objectKey: `${job.executionId}/${name}`,
      size: 10,
      sha256: "0".repeat(64),
    });
    const second = server.job(provider.id);
    await server.publishJob({ ...second, inputArtifacts: [stored[0]!, gone("Gone1"), gone("Gone2")] });
    const failed = await waitFor("the complete", () => server.completeOf(second));
    expect(failed).toMatchObject({ outcome: "Failed", failureType: "RevisionUnavailable" });
    expect(failed.summary).toContain("Input artifact Gone1");
    expect(run).toHaveBeenCalledTimes(1);
    // The workspace goes once the complete is stored (the agent removes it right after).
    await waitForAsync("the workspace to be removed", async () => (await workspaces()).length === 0);
  });
});

describe("with the real Shell provider", () => {
  const shell = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" } as const;

  it("reports a failing command with its output on both streams", async () => {
    agent = await startTestAgent(server, [createShellProvider("Build")]);
    const job = await server.publishJob(
      server.job(shell, { configuration: { Commands: "echo to-stdout\necho to-stderr >&2\nexit 3" } }),
    );
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({
      outcome: "Failed",
      failureType: "JobFailed",
      failureCause: "ProcessExit",
    });
    expect(server.logText(job, "stdout")).toBe("to-stdout\n");
    expect(server.logText(job, "stderr")).toBe("to-stderr\n");
    await server.jsm.streams.purge(server.names.streams.jobs);
  });

  it("stops a running command on cancel within 2 s", async () => {
    agent = await startTestAgent(server, [createShellProvider("Build")]);
    const job = await server.publishJob(
      server.job(shell, { configuration: { Commands: "echo begun\nsleep 30\necho never" } }),
    );
    await waitFor("the command to start", () => server.logText(job, "stdout").includes("begun"));
    const cancelledAt = Date.now();
    await server.cancel(job, "Abandoned", { agentId: agent.agentId });
    const complete = await waitFor("the complete", () => server.completeOf(job), 5000);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    expect(complete.summary).toBe("Cancelled: Abandoned");
    expect(server.logText(job, "stdout")).toBe("begun\n");
  });
});

describe("cancels", () => {
  it("kill the job's processes within 2 s and complete it as cancelled (core path)", async () => {
    const records: SleepRecord[] = [];
    const provider = sleepProvider(type("SleepCore"), records);
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(
      server.job(provider.id, { configuration: { Seconds: "30" }, outputArtifacts: [{ name: "Out" }] }),
    );
    const record = await waitFor("the sleep to start", () => records.find((r) => r.jobId === job.jobId));
    expect(alive(record.pid)).toBe(true);

    const cancelledAt = Date.now();
    await server.cancel(job, "Abandoned", { agentId: agent.agentId, durable: false });
    await waitFor("the process to be gone", () => !alive(record.pid), 2000);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({
      outcome: "Failed",
      failureType: "JobFailed",
      summary: "Cancelled: Abandoned",
      outputArtifacts: [],
    });
    expect(record.stopReason?.kind).toBe("Cancelled");
    expect(server.logText(job, "system")).not.toContain("Uploading");
    // The workspace goes once the complete is stored (the agent removes it right after).
    await waitForAsync("the workspace to be removed", async () => (await workspaces()).length === 0);
  });

  it("reach a running job through the durable subject alone, within a heartbeat", async () => {
    const records: SleepRecord[] = [];
    const provider = sleepProvider(type("SleepDurable"), records);
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(server.job(provider.id, { configuration: { Seconds: "30" } }));
    const record = await waitFor("the sleep to start", () => records.find((r) => r.jobId === job.jobId));
    await server.cancel(job, "TimedOut", { durable: true });
    const complete = await waitFor("the complete", () => server.completeOf(job), 5000);
    expect(complete.summary).toBe("Cancelled: TimedOut");
    expect(alive(record.pid)).toBe(false);
  });

  it("of another attempt are ignored", async () => {
    const provider = sleepProvider(type("SleepOtherAttempt"));
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(
      server.job(provider.id, { attempt: 2, configuration: { Seconds: "1" } }),
    );
    await waitFor("the accept", () => server.accepts.find((a) => a.jobId === job.jobId));
    await server.cancel({ jobId: job.jobId, attempt: 1 }, "Abandoned", { agentId: agent.agentId });
    const complete = await waitFor("the complete", () => server.completeOf(job), 5000);
    expect(complete).toMatchObject({ outcome: "Succeeded", attempt: 2 });
  });

  it("drop a job cancelled before it was taken, without accepting it", async () => {
    const run = jest.fn();
    const provider = fnProvider(type("CancelledEarly"), run);
    const job = server.job(provider.id);
    await server.cancel(job, "QueueTimeout");
    await server.publishJob(job);
    agent = await startTestAgent(server, [provider]);
    await waitForAsync("the job to be taken off the queue", async () => (await server.queuedJobs()) === 0);
    expect(run).not.toHaveBeenCalled();
    expect(server.accepts.find((a) => a.jobId === job.jobId)).toBeUndefined();
    expect(server.completeOf(job)).toBeUndefined();
  });

  it("drop a job dispatched longer ago than its timeout", async () => {
    const run = jest.fn();
    const provider = fnProvider(type("Stale"), run);
    const job = await server.publishJob(
      server.job(provider.id, {
        timeoutInMinutes: 60,
        dispatchedAt: new Date(Date.now() - 2 * 3600_000).toISOString(),
      }),
    );
    agent = await startTestAgent(server, [provider]);
    await waitForAsync("the job to be taken off the queue", async () => (await server.queuedJobs()) === 0);
    expect(run).not.toHaveBeenCalled();
    expect(server.accepts.find((a) => a.jobId === job.jobId)).toBeUndefined();
  });
});

describe("a job delivered again (NATS lost its +ACK)", () => {
  it("is never started on a second agent while the first runs it, even before its log is stored", async () => {
    const starts: string[] = [];
    const gates: (() => void)[] = [];
    const provider = fnProvider(type("Twice"), async (context) => {
      starts.push(context.agent.id);
      await new Promise<void>((resolve) => gates.push(resolve));
      return { outcome: "Succeeded", summary: "ran" };
    });
    agent = await startTestAgent(server, [provider], { name: "agent-a", concurrency: 1 });
    const job = await server.publishJob(server.job(provider.id));
    await waitFor("the job started on agent-a", () => starts.length === 1);
    // Its first chunk stored, agent-a writes nothing more until released: without that chunk the
    // stream is as when a crash came before it was stored (it is retried until NATS is back).
    await waitFor("agent-a's first log chunk", () => server.logOf(job).length > 0);
    await server.purgeLog(job);

    // agent-a's only slot is taken: the copy goes to agent-b.
    other = await startTestAgent(server, [provider], { name: "agent-b" });
    await server.publishJobAgain(job);
    try {
      await waitForAsync("the copy to be taken off the queue", async () => (await server.queuedJobs()) === 0);
      // agent-b's next heartbeat comes after its decision; a job it took would be listed running.
      const after = new Date().toISOString();
      const beat = await waitFor("agent-b's heartbeat", () =>
        server.agentHeartbeats.find((h) => h.agentId === other!.agentId && h.at > after),
      );
      expect(beat.running).toEqual([]);
      expect(starts).toEqual([agent.agentId]);
      expect(server.accepts.filter((a) => a.jobId === job.jobId).map((a) => a.agent.id)).toEqual([
        agent.agentId,
      ]);
    } finally {
      gates.forEach((open) => open());
    }
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({ outcome: "Succeeded", agentId: agent.agentId });
    expect(starts).toEqual([agent.agentId]);
  });

  it("is dropped by the agent that ran it, once it has ended", async () => {
    const run = jest.fn(async () => ({ outcome: "Succeeded" as const, summary: "ran" }));
    const provider = fnProvider(type("TwiceHere"), run);
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(server.job(provider.id));
    await waitFor("the complete", () => server.completeOf(job));
    await server.purgeLog(job);
    await server.publishJobAgain(job);
    await waitForAsync("the copy to be taken off the queue", async () => (await server.queuedJobs()) === 0);
    const after = new Date().toISOString();
    const beat = await waitFor("the agent's heartbeat", () =>
      server.agentHeartbeats.find((h) => h.agentId === agent!.agentId && h.at > after),
    );
    expect(beat.running).toEqual([]);
    expect(run).toHaveBeenCalledTimes(1);
    expect(server.completes.filter((c) => c.jobId === job.jobId)).toHaveLength(1);
  });
});

describe("timeouts and leases", () => {
  it("stop a job at timeoutInMinutes and fail it as timed out", async () => {
    const records: SleepRecord[] = [];
    const provider = sleepProvider(type("SleepTimeout"), records);
    // One "minute" lasts 500 ms here.
    agent = await startTestAgent(server, [provider], {}, { minuteMs: 500 });
    const job = await server.publishJob(
      server.job(provider.id, { timeoutInMinutes: 1, configuration: { Seconds: "30" } }),
    );
    const complete = await waitFor("the complete", () => server.completeOf(job), 8000);
    expect(complete).toMatchObject({
      outcome: "Failed",
      failureType: "JobFailed",
      summary: "timed out after 1 minute",
      failureCause: "TimedOut",
      errorDetails: { code: "TimedOut" },
    });
    const record = records.find((r) => r.jobId === job.jobId)!;
    expect(record.stopReason?.kind).toBe("TimedOut");
    expect(alive(record.pid)).toBe(false);
  });

  it("fence a job whose heartbeats cannot be stored, and never report it succeeded", async () => {
    const records: SleepRecord[] = [];
    const provider = sleepProvider(type("SleepFenced"), records);
    agent = await startTestAgent(server, [provider]);
    const job = await server.publishJob(
      server.job(provider.id, {
        leaseSeconds: 2,
        heartbeatIntervalSeconds: 1,
        configuration: { Seconds: "30" },
      }),
    );
    const record = await waitFor("the sleep to start", () => records.find((r) => r.jobId === job.jobId));
    await waitFor("a heartbeat", () => server.heartbeats.find((h) => h.jobId === job.jobId));
    await server.deleteResults();
    await record.exited;
    expect(record.stopReason?.kind).toBe("Fenced");
    // The complete waits for a stream to store it: it arrives once RESULTS is back.
    await server.recreateResults();
    const complete = await waitFor("the complete", () => server.completeOf(job), 10_000);
    expect(complete).toMatchObject({
      outcome: "Failed",
      failureType: "SystemUnavailable",
      failureCause: "LeaseLost",
    });
    expect(complete.summary).toMatch(/^Cancelled: lease lost/);
  }, 30_000);
});

describe("dispatch", () => {
  it("runs at most `concurrency` jobs at once and leaves the rest queued", async () => {
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const provider = fnProvider(type("Gated"), async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running -= 1;
      return { outcome: "Succeeded", summary: "ok" };
    });
    const second = fnProvider(type("GatedToo"), async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running -= 1;
      return { outcome: "Succeeded", summary: "ok" };
    });
    agent = await startTestAgent(server, [provider, second], { concurrency: 2 });
    const jobs: { jobId: string; attempt: number; pool?: string }[] = [];
    for (let i = 0; i < 3; i++) jobs.push(await server.publishJob(server.job(provider.id)));
    for (let i = 0; i < 2; i++) jobs.push(await server.publishJob(server.job(second.id)));
    await waitFor("two jobs running", () => running === 2);
    // Both pull loops wait for a free slot once no pull of theirs is left on the server: from then on
    // no job can reach the agent. An agent that ignored its slots would pull on and start them all.
    await waitForAsync(
      "no pull left waiting, or a third job running",
      async () =>
        running > 2 ||
        ((await server.pullsWaiting(provider.id)) === 0 && (await server.pullsWaiting(second.id)) === 0),
    );
    expect(running).toBe(2);
    expect(await server.queuedJobs()).toBe(3);
    while (server.completes.filter((c) => jobs.some((j) => j.jobId === c.jobId)).length < 5) {
      gates.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(most).toBe(2);
    expect(await server.queuedJobs()).toBe(0);
  });

  it("starts a job within milliseconds on an idle agent", async () => {
    let startedAt = 0;
    const provider = fnProvider(type("Quick"), async () => {
      startedAt = Date.now();
      return { outcome: "Succeeded", summary: "" };
    });
    agent = await startTestAgent(server, [provider]);
    await waitForAsync(
      "the agent's pull to wait on the server",
      async () => (await server.pullsWaiting(provider.id)) > 0,
    );
    const publishedAt = Date.now();
    const job = await server.publishJob(server.job(provider.id));
    await waitFor("the complete", () => server.completeOf(job));
    // Pull, cancel check, accept and +ACK happen before the provider starts: a few round trips.
    // Far below the 10 s long-poll: the pull was waiting. Generous for loaded CI machines.
    expect(startedAt - publishedAt).toBeLessThan(1000);
  });

  it("routes by pool: an agent never takes another pool's job", async () => {
    const seenBy: Record<string, string> = {};
    const make = (who: string) =>
      fnProvider(type("Routed"), async (context) => {
        seenBy[context.job.jobId] = who;
        return { outcome: "Succeeded", summary: who };
      });
    agent = await startTestAgent(server, [make("a")], { pool: "pool-a", name: "agent-a" });
    other = await startTestAgent(server, [make("b")], { pool: "pool-b", name: "agent-b" });
    const jobs: { jobId: string; attempt: number; pool?: string }[] = [];
    for (let i = 0; i < 3; i++) {
      jobs.push(await server.publishJob(server.job(type("Routed"), { pool: "pool-b" })));
      jobs.push(await server.publishJob(server.job(type("Routed"), { pool: "pool-a" })));
    }
    for (const job of jobs) {
      const complete = await waitFor("the complete", () => server.completeOf(job));
      const expected = job.pool === "pool-a" ? agent : other;
      expect(complete.agentId).toBe(expected.agentId);
      expect(seenBy[job.jobId]).toBe(job.pool === "pool-a" ? "a" : "b");
    }
  });
});

describe("jobs the agent cannot read", () => {
  it("NAKs a job of a newer protocol version with a 30 s delay and runs nothing", async () => {
    const run = jest.fn();
    const provider = fnProvider(type("Newer"), run);
    agent = await startTestAgent(server, [provider]);
    const job = server.job(provider.id);
    const acksBefore = server.jobAcks.length;
    await server.publishRawJob("default", provider.id, {
      ...job,
      protocolVersion: PROTOCOL_VERSION + 1,
      futureField: true,
    });
    const ack = await waitFor("the agent's answer", () => server.jobAcks[acksBefore]);
    expect(ack).toMatch(/^-NAK/);
    expect(JSON.parse(ack.slice("-NAK".length))).toEqual({ delay: 30_000_000_000 });
    // Still queued for another agent that understands it.
    expect(await server.queuedJobs()).toBe(1);
    expect(run).not.toHaveBeenCalled();
    expect(server.accepts.find((a) => a.jobId === job.jobId)).toBeUndefined();
    await server.jsm.streams.purge(server.names.streams.jobs);
  });

  it("terminates an invalid job and runs nothing", async () => {
    const run = jest.fn();
    const provider = fnProvider(type("Broken"), run);
    agent = await startTestAgent(server, [provider]);
    const job = server.job(provider.id);
    await server.publishRawJob("default", provider.id, { ...job, attempt: 0 });
    expect(job.attempt).toBe(1);
    // Terminated: removed from the work queue, never delivered again.
    await waitForAsync("the job to be terminated", async () => (await server.queuedJobs()) === 0);
    expect(server.jobAcks).toContain("+TERM");
    expect(run).not.toHaveBeenCalled();
  });

  it("fails a job it refuses at once with the reason, so the execution does not wait for its timeout", async () => {
    const run = jest.fn();
    const provider = fnProvider(type("Refused"), run);
    agent = await startTestAgent(server, [provider]);
    const job = server.job(provider.id);
    await server.publishRawJob("default", provider.id, {
      ...job,
      sourceRevision: { actionName: "Checkout", revisionId: "abc", revisionUrl: "javascript:alert(1)" },
    });
    const complete = await waitFor("the refusal's complete", () => server.completeOf(job));
    expect(complete).toMatchObject({
      jobId: job.jobId,
      attempt: job.attempt,
      outcome: "Failed",
      failureType: "ConfigurationError",
      failureCause: "JobRefused",
      errorDetails: {
        code: "InvalidJob",
        message: expect.stringMatching(/^The agent refused the job: .*revisionUrl/),
      },
    });
    await waitForAsync("the job to be terminated", async () => (await server.queuedJobs()) === 0);
    expect(server.jobAcks).toContain("+TERM");
    expect(run).not.toHaveBeenCalled();
  });
});
