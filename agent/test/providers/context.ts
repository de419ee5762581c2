/** Builds JobContexts for provider tests: a real workspace, a recording log, an abort switch. */
import { mkdir, mkdtemp } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { JobMessage } from "@sluice/protocol";
import type { JobContext, LogSink, StopReason } from "../../src/providers/types";

export class RecordingSink implements LogSink {
  readonly chunks: { stream: "stdout" | "stderr" | "system"; text: string }[] = [];
  write(stream: "stdout" | "stderr", data: string | Uint8Array): void {
    this.chunks.push({ stream, text: typeof data === "string" ? data : Buffer.from(data).toString("utf8") });
  }
  system(line: string): void {
    this.chunks.push({ stream: "system", text: `${line}\n` });
  }
  text(stream?: "stdout" | "stderr" | "system"): string {
    return this.chunks
      .filter((c) => stream === undefined || c.stream === stream)
      .map((c) => c.text)
      .join("");
  }
}

export function makeJob(overrides: Partial<JobMessage> = {}): JobMessage {
  const executionId = overrides.executionId ?? "exec-42";
  return {
    protocolVersion: 3,
    jobId: "job-7",
    attempt: 2,
    executionId,
    pipelineName: "web.app@v2",
    stageName: "Build",
    actionName: "Compile",
    actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
    configuration: {},
    inputArtifacts: [],
    outputArtifacts: [],
    outputArtifactKeyPrefix: `${executionId}/${overrides.jobId ?? "job-7"}/${overrides.attempt ?? 2}/`,
    leaseToken: "kq3vX9d2Lh7mR4tB8wZ1nF6yJ0cP5sAe",
    pool: "default",
    timeoutInMinutes: 5,
    context: { pipelineExecutionId: executionId, variables: {} },
    dispatchedAt: new Date().toISOString(),
    leaseSeconds: 20,
    heartbeatIntervalSeconds: 5,
    ...overrides,
  };
}

export interface TestContext {
  context: JobContext;
  log: RecordingSink;
  workspace: string;
  abort(reason?: StopReason): void;
}

let counter = 0;

/**
 * A context whose workspace is a fresh directory under `base`; each name in `inputs` gets a
 * directory `inputs/<name>` inside the workspace, as the runtime would unpack it.
 */
export async function makeContext(
  base: string,
  job: JobMessage,
  inputs: readonly string[] = job.inputArtifacts.map((a) => a.name),
): Promise<TestContext> {
  const workspace = path.join(base, `ws-${++counter}`);
  await mkdir(workspace, { recursive: true });
  const inputDirs = new Map<string, string>();
  for (const name of inputs) {
    const dir = path.join(workspace, "inputs", name);
    await mkdir(dir, { recursive: true });
    inputDirs.set(name, dir);
  }
  const controller = new AbortController();
  const log = new RecordingSink();
  return {
    context: {
      job,
      workspace,
      inputs: inputDirs,
      log,
      signal: controller.signal,
      agent: { id: "agent-1", name: "build-host-1", pool: "default" },
    },
    log,
    workspace,
    abort: (reason = { kind: "Cancelled", message: "Cancelled: Abandoned" }) => controller.abort(reason),
  };
}

export async function tempBase(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `sluice-${label}-`));
}

/** ESRCH, or a zombie waiting for its reaper: either way nothing of it runs any more. */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return true;
    throw error;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
