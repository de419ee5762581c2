/**
 * Small providers for runtime tests, independent of the real Shell/Git/Webhook ones: a function
 * provider, and one that runs a real `sleep` in its own process group and kills the group on abort.
 */
import { spawn } from "node:child_process";
import { TIMINGS, type ActionTypeId } from "@sluice/protocol";
import type { JobContext, Provider, ProviderResult, StopReason } from "../../src/providers/types";

export const type = (provider: string, category: ActionTypeId["category"] = "Build"): ActionTypeId => ({
  category,
  owner: "Custom",
  provider,
  version: "1",
});

export function fnProvider(
  id: ActionTypeId,
  run: (context: JobContext) => Promise<ProviderResult>,
): Provider {
  return { id, run };
}

/** What the sleep provider saw, for assertions. */
export interface SleepRecord {
  pid: number;
  jobId: string;
  stopReason?: StopReason;
  exited: Promise<void>;
}

/**
 * Runs `sleep <configuration.Seconds>`; prints "started" before and "slept" after. On abort it kills
 * the process group (SIGTERM, SIGKILL after the grace period) and returns at once.
 */
export function sleepProvider(id: ActionTypeId, records: SleepRecord[] = []): Provider {
  return {
    id,
    run: (context) =>
      new Promise<ProviderResult>((resolve) => {
        const seconds = context.job.configuration.Seconds ?? "30";
        context.log.system(`Running sleep ${seconds}`);
        context.log.write("stdout", "started\n");
        const child = spawn("sleep", [seconds], { detached: true, stdio: "ignore", cwd: context.workspace });
        let onExit!: () => void;
        const record: SleepRecord = {
          pid: child.pid!,
          jobId: context.job.jobId,
          exited: new Promise((r) => (onExit = r)),
        };
        records.push(record);
        const abort = () => {
          record.stopReason = context.signal.reason as StopReason;
          try {
            process.kill(-child.pid!, "SIGTERM");
          } catch {
            /* already gone */
          }
          setTimeout(() => {
            try {
              process.kill(-child.pid!, "SIGKILL");
            } catch {
              /* already gone */
            }
          }, TIMINGS.cancelGraceSeconds * 1000).unref();
        };
        context.signal.addEventListener("abort", abort, { once: true });
        child.on("exit", (code) => {
          onExit();
          context.signal.removeEventListener("abort", abort);
          if (code === 0) {
            context.log.write("stdout", "slept\n");
            resolve({ outcome: "Succeeded", summary: `slept ${seconds} s` });
          } else resolve({ outcome: "Failed", summary: `sleep exited with ${code}` });
        });
      }),
  };
}

/** True while a process with this id exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
