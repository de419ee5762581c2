/** Results shared by the providers that run commands. */
import { LIMITS, type FailureCause } from "@sluice/protocol";
import { SpawnError, type ProcessResult } from "../exec/process";
import { truncate } from "./environment";
import type { JobContext, ProviderResult, StopReason } from "./types";

/** What a provider returns once its job was aborted; the runtime reports the stop itself. */
export function stopped(context: JobContext): ProviderResult {
  const reason = context.signal.reason as Partial<StopReason> | undefined;
  const message = typeof reason?.message === "string" ? reason.message : "Cancelled";
  return { outcome: "Failed", failureType: "JobFailed", summary: truncate(message, LIMITS.summaryLength) };
}

/** A command that ended badly: exit status or signal, with the tail of its stderr for details. */
export function commandFailed(what: string, result: ProcessResult): ProviderResult {
  const summary =
    result.exitCode !== null
      ? `${what} failed with exit status ${result.exitCode}`
      : `${what} ended by signal ${result.signal ?? "unknown"}`;
  const code = result.exitCode !== null ? `ExitStatus${result.exitCode}` : `Signal${result.signal ?? ""}`;
  const tail = result.stderrTail.trim().split("\n").slice(-20).join("\n");
  const message = tail ? `${summary}; last lines of stderr:\n${tail}` : summary;
  return {
    outcome: "Failed",
    failureType: "JobFailed",
    failureCause: "ProcessExit",
    summary: truncate(summary, LIMITS.summaryLength),
    errorDetails: { message: truncate(message, LIMITS.errorMessageLength), code },
  };
}

export function failed(
  failureType: ProviderResult["failureType"],
  summary: string,
  code?: string,
  details?: string,
  failureCause: FailureCause = "ActionFailed",
): ProviderResult {
  return {
    outcome: "Failed",
    failureType,
    failureCause,
    summary: truncate(summary, LIMITS.summaryLength),
    errorDetails: {
      message: truncate(details ?? summary, LIMITS.errorMessageLength),
      ...(code ? { code: truncate(code, LIMITS.errorCodeLength) } : {}),
    },
  };
}

/**
 * Runs a provider's body, turning the agent's own trouble into retryable failures: a program that
 * is missing here may exist on another agent, and a full disk may be freed. Anything else is
 * rethrown for the runtime to report.
 */
export async function guarded(run: () => Promise<ProviderResult>): Promise<ProviderResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof SpawnError) {
      return failed(
        "SystemUnavailable",
        `${error.command} cannot be run on this agent (${error.code ?? error.message})`,
        "SpawnFailed",
        undefined,
        "SpawnFailed",
      );
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      const message = `No space left on the agent: ${(error as Error).message}`;
      return failed("SystemUnavailable", message, code, undefined, "WorkspaceError");
    }
    throw error;
  }
}
