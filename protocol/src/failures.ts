/**
 * Every way a job or a registration can fail, and whether trying again may help (PROTOCOL.md,
 * sections 5.7 and 8). "Retryable" means another attempt with the same inputs may succeed; whether
 * the server does retry is its own policy.
 */

export const FAILURE_TYPES = [
  "JobFailed",
  "ConfigurationError",
  "PermissionError",
  "RevisionOutOfSync",
  "RevisionUnavailable",
  "SystemUnavailable",
] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

export interface FailureInfo {
  retryable: boolean;
  /** When to report it. */
  when: string;
}

export const FAILURES: Readonly<Record<FailureType, FailureInfo>> = {
  JobFailed: {
    retryable: false,
    when: "the action ran and failed (non-zero exit, failed tests, refused deployment), timed out or was cancelled",
  },
  ConfigurationError: {
    retryable: false,
    when: "the action's configuration is wrong or incomplete, or a declared output artifact was not produced",
  },
  PermissionError: {
    retryable: false,
    when: "the agent was refused access to a repository, a deploy target or the object store",
  },
  RevisionOutOfSync: {
    retryable: false,
    when: "the revision to build no longer matches its source (force-push, sources that disagree)",
  },
  RevisionUnavailable: {
    retryable: false,
    when: "the revision or an input artifact no longer exists, or its SHA-256 differs from the recorded one",
  },
  SystemUnavailable: {
    retryable: true,
    when: "something the job needs is unavailable for now (object store, NATS, git host, disk), or the agent was lost",
  },
};

export function isRetryable(type: FailureType): boolean {
  return FAILURES[type].retryable;
}

/**
 * Why a job failed, as the agent that ran it knows it (CompleteMessage.failureCause, PROTOCOL.md
 * 5.5 and 8.1): finer than the failureType, which says what kind of failure it was for people.
 * The server decides from it whether a retry policy may run the action again, in one function
 * (server/src/domain/execution/failures.ts). `Unknown`: the agent did not say (an agent older than
 * the field, with no code of LEGACY_FAILURE_CODES either).
 */
export const FAILURE_CAUSES = [
  /** A command the action runs exited with a non-zero status or was killed by a signal. */
  "ProcessExit",
  /** The action failed on its own terms: a request refused, a fetch or checkout that failed, tests. */
  "ActionFailed",
  /** The provider that runs the action threw: a bug in the agent. */
  "ProviderError",
  /** The job ran longer than its timeoutInMinutes (the agent's own timer). */
  "TimedOut",
  /** The server cancelled the job (the execution stopped, another agent holds it). */
  "Cancelled",
  /** The agent stopped the job because it could not store a heartbeat within the lease (6.4). */
  "LeaseLost",
  /** The agent was shutting down (SIGTERM past its grace) and stopped the job. */
  "AgentShutdown",
  /** The agent's token was revoked while the job ran. */
  "AgentRevoked",
  /** The agent refused the job: the message breaks the protocol (a field no agent accepts). */
  "JobRefused",
  /** The action's configuration is wrong: a required key, a secret that cannot be resolved. */
  "ConfigurationInvalid",
  /** A declared output artifact was not produced. */
  "ArtifactMissing",
  /** Outputs over a limit: output variables over 120 KiB, an artifact over the store's limit. */
  "OutputTooLarge",
  /** An input artifact is gone, or its size or SHA-256 differ from the recorded ones. */
  "InputUnavailable",
  /** The artifact store (NATS object store) could not be reached. */
  "ArtifactStoreUnavailable",
  /** The agent could not prepare or use the job's workspace (a full disk, a file it could not write). */
  "WorkspaceError",
  /** A program the action needs cannot be started on this agent. */
  "SpawnFailed",
  "Unknown",
] as const;
export type FailureCause = (typeof FAILURE_CAUSES)[number];

/**
 * What agents said with `errorDetails.code` before `failureCause` existed: a complete without the
 * field is read with the cause its code meant (codec: CompleteMessage), anything else is Unknown.
 */
export const LEGACY_FAILURE_CODES: Readonly<Record<string, FailureCause>> = {
  TimedOut: "TimedOut",
  Cancelled: "Cancelled",
  Fenced: "LeaseLost",
  Shutdown: "AgentShutdown",
  Revoked: "AgentRevoked",
  InvalidJob: "JobRefused",
  OutputArtifactMissing: "ArtifactMissing",
  OutputVariablesTooLarge: "OutputTooLarge",
  SpawnFailed: "SpawnFailed",
};

/** The cause a complete without `failureCause` meant, from its `errorDetails.code`. */
export function legacyFailureCause(code: string | undefined): FailureCause {
  if (code === undefined) return "Unknown";
  if (Object.hasOwn(LEGACY_FAILURE_CODES, code)) return LEGACY_FAILURE_CODES[code]!;
  if (/^(?:ExitStatus\d+|Signal[A-Z0-9]*)$/.test(code)) return "ProcessExit";
  return "Unknown";
}

/** Why a registration was refused (RegisterReply with `ok: false`). */
export const REGISTER_REFUSALS = [
  "IncompatibleProtocol",
  "Unauthenticated",
  "InvalidRequest",
  "Unavailable",
] as const;
export type RegisterRefusal = (typeof REGISTER_REFUSALS)[number];

export const REFUSALS: Readonly<Record<RegisterRefusal, FailureInfo>> = {
  IncompatibleProtocol: {
    retryable: false,
    when: "the server does not support the agent's protocol version",
  },
  Unauthenticated: { retryable: false, when: "the token is unknown, revoked or malformed" },
  InvalidRequest: { retryable: false, when: "the request breaks a rule of the protocol" },
  Unavailable: { retryable: true, when: "the server cannot register agents now (database unavailable)" },
};

/** Why an agent heartbeat was answered with `ok: false` (AgentHeartbeatReply). */
export const HEARTBEAT_REFUSALS = ["Unauthenticated", "UnknownAgent"] as const;
export type HeartbeatRefusal = (typeof HEARTBEAT_REFUSALS)[number];

export const HEARTBEAT_REFUSAL_INFO: Readonly<Record<HeartbeatRefusal, FailureInfo & { response: string }>> =
  {
    Unauthenticated: {
      retryable: false,
      when: "the agent's token was revoked",
      response: "stop every job as if cancelled, and exit with the message",
    },
    UnknownAgent: {
      retryable: true,
      when: "the server does not know this agent id (its registration was removed)",
      response: "register again",
    },
  };
