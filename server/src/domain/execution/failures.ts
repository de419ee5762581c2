/**
 * Why an attempt failed, and whether another attempt may help: one table for every cause, those
 * agents report (the protocol's CompleteMessage.failureCause, PROTOCOL.md 8.1) and those the server
 * finds itself (a lease that ran out, outputs it refuses). The retry policy of an action then
 * decides, for a retryable cause, whether it retries the cause's condition (AGENT_LOST, FAILED,
 * TIMED_OUT) and how often; a cause that is not retryable ends the action whatever its policy says.
 */
import {
  FAILURE_CAUSES as AGENT_FAILURE_CAUSES,
  type FailureCause as AgentFailureCause,
} from "@sluice/protocol";
import type { RetryCondition } from "../pipeline/document";

/** Causes only the server finds. */
export const SERVER_FAILURE_CAUSES = [
  /** No heartbeat of the agent holding the attempt within its lease: the agent is lost. */
  "LeaseExpired",
  /** The stored object of a reported output is missing, or its size or SHA-256 differ. */
  "ArtifactMismatch",
  /** The agent reported outputs the action did not declare, or at another attempt's key. */
  "OutputsRefused",
] as const;

export const FAILURE_CAUSES = [...AGENT_FAILURE_CAUSES, ...SERVER_FAILURE_CAUSES] as const;
export type FailureCause = AgentFailureCause | (typeof SERVER_FAILURE_CAUSES)[number];

export interface FailureClass {
  /** Another attempt with the same inputs may succeed: a retry policy may run one. */
  retryable: boolean;
  /** The retry-policy condition that covers the cause. */
  condition: RetryCondition;
}

const lost: FailureClass = { retryable: true, condition: "AGENT_LOST" };
const failed: FailureClass = { retryable: true, condition: "FAILED" };
const final: FailureClass = { retryable: false, condition: "FAILED" };

const CLASSES: Readonly<Record<FailureCause, FailureClass>> = {
  // The job ran and failed: a flaky command or service may pass next time, if the policy says so.
  ProcessExit: failed,
  ActionFailed: failed,
  ProviderError: failed,
  Unknown: failed,
  ArtifactStoreUnavailable: failed,
  WorkspaceError: failed,
  SpawnFailed: failed,
  ArtifactMismatch: failed,
  TimedOut: { retryable: true, condition: "TIMED_OUT" },
  // The job did not fail: its agent went away or was told to stop.
  LeaseExpired: lost,
  LeaseLost: lost,
  AgentShutdown: lost,
  AgentRevoked: lost,
  // The same job fails the same way until someone changes something.
  Cancelled: final,
  JobRefused: final,
  ConfigurationInvalid: final,
  ArtifactMissing: final,
  OutputTooLarge: final,
  InputUnavailable: final,
  OutputsRefused: final,
};

/** Whether a failure with this cause may be retried, and under which retry-policy condition. */
export function classifyFailure(cause: FailureCause): FailureClass {
  return CLASSES[cause] ?? failed;
}
