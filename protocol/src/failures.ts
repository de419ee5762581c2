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
