import { mkdtemp, readFile, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LogSink } from "../providers/types";
import { runProcess } from "./process";

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

class RecordingSink implements LogSink {
  readonly chunks: { stream: string; text: string }[] = [];
  readonly systemLines: string[] = [];
  write(stream: "stdout" | "stderr", data: string | Uint8Array): void {
    this.chunks.push({ stream, text: typeof data === "string" ? data : Buffer.from(data).toString("utf8") });
  }
  system(line: string): void {
    this.systemLines.push(line);
  }
  text(stream: "stdout" | "stderr"): string {
    return this.chunks
      .filter((c) => c.stream === stream)
      .map((c) => c.text)
      .join("");
  }
}

/** ESRCH, or a zombie waiting for its reaper: either way nothing of it runs any more. */
function isGone(pid: number): boolean {
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

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function pidsFrom(file: string, count: number): Promise<number[]> {
  return waitFor(async () => {
    const text = await readFile(file, "utf8").catch(() => "");
    const pids = text.split(/\s+/).filter(Boolean).map(Number);
    return pids.length >= count ? pids : undefined;
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sluice-exec-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("runProcess", () => {
  it("streams stdout and stderr in order and reports the exit status", async () => {
    const log = new RecordingSink();
    const result = await runProcess({
      argv: ["bash", "-c", "for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 3"],
      cwd: dir,
      env,
      log,
    });
    expect(result).toMatchObject({ exitCode: 3, signal: null, aborted: false });
    expect(log.text("stdout")).toBe("out1\nout2\nout3\n");
    expect(log.text("stderr")).toBe("err1\nerr2\nerr3\n");
    expect(result.stderrTail).toBe("err1\nerr2\nerr3\n");
  });

  it("passes exactly the given environment and working directory", async () => {
    const result = await runProcess({
      argv: ["/usr/bin/env"],
      cwd: dir,
      env: { ONLY: "this", PATH: env.PATH },
      captureStdout: true,
      logStdout: false,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim().split("\n").sort()).toEqual(["ONLY=this", `PATH=${env.PATH}`]);
    const pwd = await runProcess({ argv: ["pwd"], cwd: dir, env, captureStdout: true });
    expect(pwd.stdout.trim()).toBe(dir);
  });

  it("rejects when the program cannot be started, naming it", async () => {
    await expect(runProcess({ argv: ["/no/such/program"], cwd: dir, env })).rejects.toThrow(
      /could not start \/no\/such\/program: ENOENT/,
    );
  });

  it("does not start anything when already aborted", async () => {
    const marker = path.join(dir, "never");
    const result = await runProcess({
      argv: ["bash", "-c", `touch ${marker}`],
      cwd: dir,
      env,
      signal: AbortSignal.abort(),
    });
    expect(result.aborted).toBe(true);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  it("on abort kills the whole group, grandchildren included, within 2 s", async () => {
    const pidFile = path.join(dir, "abort.pids");
    const controller = new AbortController();
    const running = runProcess({
      argv: ["bash", "-c", `sleep 300 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; sleep 300; echo never`],
      cwd: dir,
      env,
      signal: controller.signal,
    });
    const pids = await pidsFrom(pidFile, 2);
    const abortedAt = Date.now();
    controller.abort();
    const result = await running;
    expect(result.aborted).toBe(true);
    await waitFor(async () => (pids.every(isGone) ? true : undefined), 2000);
    expect(Date.now() - abortedAt).toBeLessThan(2000);
  });

  it("follows SIGTERM with SIGKILL for processes that ignore it", async () => {
    const pidFile = path.join(dir, "stubborn.pids");
    const controller = new AbortController();
    const running = runProcess({
      argv: [
        "bash",
        "-c",
        `trap '' TERM; (trap '' TERM; sleep 300) & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; while true; do sleep 0.1; done`,
      ],
      cwd: dir,
      env,
      signal: controller.signal,
    });
    const pids = await pidsFrom(pidFile, 2);
    const abortedAt = Date.now();
    controller.abort();
    const result = await running;
    expect(result.aborted).toBe(true);
    expect(result.signal).toBe("SIGKILL");
    await waitFor(async () => (pids.every(isGone) ? true : undefined), 2000);
    expect(Date.now() - abortedAt).toBeLessThan(2000);
  });

  it("kills background children left behind by a command that exited normally", async () => {
    const pidFile = path.join(dir, "left.pids");
    const result = await runProcess({
      argv: ["bash", "-c", `nohup sleep 300 >/dev/null 2>&1 & echo $! > ${pidFile}; exit 0`],
      cwd: dir,
      env,
    });
    expect(result.exitCode).toBe(0);
    const [pid] = await pidsFrom(pidFile, 1);
    await waitFor(async () => (isGone(pid!) ? true : undefined), 2000);
  });

  it("returns even when a background child keeps the output pipes open", async () => {
    const pidFile = path.join(dir, "pipes.pids");
    // setsid leaves the process group, so only the pipe drain timeout ends the wait.
    const result = await runProcess({
      argv: [
        "bash",
        "-c",
        `setsid bash -c 'echo $$ > ${pidFile}; exec sleep 30' & while [ ! -s ${pidFile} ]; do sleep 0.01; done; echo done`,
      ],
      cwd: dir,
      env,
      captureStdout: true,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("done\n");
    const [pid] = await pidsFrom(pidFile, 1);
    expect(isGone(pid!)).toBe(false);
    process.kill(pid!, "SIGKILL");
  });
});
