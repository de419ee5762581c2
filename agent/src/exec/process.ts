/**
 * Runs one command of a job in its own process group, so that a cancel (or the end of the job)
 * can take down everything the command started, grandchildren included (PROTOCOL.md 6.3).
 */
import { spawn } from "node:child_process";
import { TIMINGS } from "@sluice/protocol";
import type { LogSink } from "../providers/types";
import { killAllOf, type JobUser } from "./job-users";
import { currentReaper } from "./reaper";

export interface RunProcessOptions {
  /** The program and its arguments; no shell is involved unless argv[0] is one. */
  argv: readonly string[];
  cwd: string;
  /** The whole environment of the process: nothing of the agent's own environment is added. */
  env: Readonly<Record<string, string>>;
  /** Receives stdout and stderr as they come (unless `logStdout` is false for stdout). */
  log?: LogSink;
  /** Aborting kills the whole process group: SIGTERM, then SIGKILL after TIMINGS.cancelGraceSeconds. */
  signal?: AbortSignal;
  /** Keep stdout in the result (git plumbing output); capped at `maxCaptureBytes`. */
  captureStdout?: boolean;
  /** Forward stdout to `log` (default true). */
  logStdout?: boolean;
  /** Default 16 MiB: enough for any plumbing output this agent reads, small enough to stay in memory. */
  maxCaptureBytes?: number;
  /**
   * Runs the process as this uid and gid, without supplementary groups (a root agent's jobs). An
   * `exclusive` user has every process of its uid killed once the command exited, before the
   * result is returned: nothing of it runs on while the agent reads what it left.
   */
  user?: Pick<JobUser, "uid" | "gid" | "exclusive">;
}

export interface ProcessResult {
  /** The exit status, or null when the process was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when `options.signal` aborted the run: the result says nothing about the command then. */
  aborted: boolean;
  /** Captured stdout when `captureStdout` was set, else "". */
  stdout: string;
  /** The last 8 KiB of stderr, for error messages and classification. */
  stderrTail: string;
}

const STDERR_TAIL_BYTES = 8 * 1024;
/** How long the pipes may stay open after the group was killed (a process that left the group). */
const PIPE_DRAIN_MS = 500;

/** The program could not be started at all (not installed, not executable, bad cwd). */
export class SpawnError extends Error {
  override readonly name = "SpawnError";
  constructor(
    readonly command: string,
    readonly code: string | undefined,
    cause: Error,
  ) {
    super(`could not start ${command}: ${code ?? cause.message}`, { cause });
  }
}

/** Sends `signal` to the process group led by `pid`; a group that is already gone is fine. */
export function killProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/**
 * Spawns `argv` in a new process group and resolves when it exited and its output was delivered.
 * Rejects only when the program cannot be started (ENOENT, EACCES…), with the program named.
 */
/**
 * Processes started as an exclusive job user whose exit (and the kill of every process of that
 * uid after it) is not over yet: while none is, nothing of the job can still run as its user.
 */
const startedUnder = new Map<number, number>();

/** Whether a process started as `user` may still be running (see startedUnder). */
export function mayStillRunAs(user: Pick<JobUser, "uid">): boolean {
  return (startedUnder.get(user.uid) ?? 0) > 0;
}

export function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  const { argv, cwd, env, log, signal, user } = options;
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new Error("runProcess needs a command"));
  if (signal?.aborted) {
    return Promise.resolve({ exitCode: null, signal: null, aborted: true, stdout: "", stderrTail: "" });
  }
  const logStdout = options.logStdout ?? true;
  const maxCapture = options.maxCaptureBytes ?? 16 * 1024 * 1024;

  return new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...env },
      // A new process group: process.kill(-pid) then reaches every process of the job.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // libuv drops the supplementary groups (setgroups(0)) before setgid and setuid.
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    // Until its exit and the kill of what it left behind, the user's processes may be alive.
    const counted = user?.exclusive === true && child.pid !== undefined;
    if (counted) startedUnder.set(user!.uid, (startedUnder.get(user!.uid) ?? 0) + 1);
    // Reported to the reaper, which kills the group should this agent die before it ends.
    const reaper = child.pid === undefined ? null : currentReaper();
    reaper?.track(child.pid!);
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail = Buffer.alloc(0);
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;

    child.stdout.on("data", (chunk: Buffer) => {
      if (logStdout) log?.write("stdout", chunk);
      if (options.captureStdout && stdoutBytes < maxCapture) {
        const part = chunk.subarray(0, maxCapture - stdoutBytes);
        stdoutChunks.push(part);
        stdoutBytes += part.length;
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      log?.write("stderr", chunk);
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(-STDERR_TAIL_BYTES);
    });

    const onAbort = () => {
      if (exit || child.pid === undefined) return;
      aborted = true;
      killProcessGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => {
        if (child.pid !== undefined) {
          killProcessGroup(child.pid, "SIGKILL");
          reaper?.untrack(child.pid);
        }
      }, TIMINGS.cancelGraceSeconds * 1000);
    };

    let cleared: Promise<void> = Promise.resolve();
    const finish = () => {
      if (settled || !exit) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      const result = {
        exitCode: exit.code,
        signal: exit.signal,
        aborted,
        stdout: Buffer.concat(stdoutChunks).toString("utf8"),
        stderrTail: stderrTail.toString("utf8"),
      };
      void cleared.then(() => resolve(result));
    };

    child.once("error", (error: NodeJS.ErrnoException) => {
      // Only a failed spawn lands here before "exit"; later errors (a failed kill) are ignored.
      if (exit || settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      reject(new SpawnError(command, error.code, error));
    });

    child.once("exit", (code, exitSignal) => {
      exit = { code, signal: exitSignal };
      // Whatever the command left running in the background must not outlive the job.
      if (child.pid !== undefined) {
        killProcessGroup(child.pid, "SIGKILL");
        reaper?.untrack(child.pid);
      }
      // And whatever left the group (setsid, a daemon) under the job's own uid.
      if (user?.exclusive) cleared = killAllOf(user);
      if (counted)
        void cleared.then(() => {
          const left = (startedUnder.get(user!.uid) ?? 1) - 1;
          if (left > 0) startedUnder.set(user!.uid, left);
          else startedUnder.delete(user!.uid);
        });
      // "close" waits for the pipes; a process that escaped the group (setsid) may hold them open.
      const drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, PIPE_DRAIN_MS);
      child.once("close", () => {
        clearTimeout(drain);
        finish();
      });
    });

    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
