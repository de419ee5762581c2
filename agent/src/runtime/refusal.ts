import { LIMITS, PATTERNS, leaseTokenSchema, type CompleteMessage } from "@sluice/protocol";

/**
 * The result an agent reports for a job it refuses (it breaks the protocol: a field no agent
 * accepts): the attempt fails at once with the reason, instead of the execution waiting until
 * its timeout for an agent that will never come. Null when the message does not even name its
 * job or carry its lease token (the server takes no result without it: then the server's timeout
 * is all that is left).
 */
export function refusalComplete(
  payload: Uint8Array,
  agentId: string,
  reason: string,
): CompleteMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return null;
  }
  const { jobId, attempt, leaseToken } = (raw ?? {}) as {
    jobId?: unknown;
    attempt?: unknown;
    leaseToken?: unknown;
  };
  if (typeof leaseToken !== "string" || !leaseTokenSchema.safeParse(leaseToken).success) return null;
  if (typeof jobId !== "string" || !PATTERNS.id.regex.test(jobId)) return null;
  if (typeof attempt !== "number" || !Number.isInteger(attempt) || attempt < 1) return null;
  const message = `The agent refused the job: ${reason}`.slice(0, LIMITS.errorMessageLength);
  return {
    jobId,
    attempt,
    agentId,
    leaseToken,
    outcome: "Failed",
    failureType: "ConfigurationError",
    failureCause: "JobRefused",
    summary: "The agent refused the job: it breaks the protocol.",
    errorDetails: { code: "InvalidJob", message },
    outputVariables: {},
    outputArtifacts: [],
    finishedAt: new Date().toISOString(),
  };
}
