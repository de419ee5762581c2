/**
 * The pipeline events a notification rule can match: the ones a team acts on (docs/notifications.md).
 * Intermediate states (waiting, stopping, queued, skipped, retry scheduled) are left out on
 * purpose: they are noise in a chat channel.
 */
export const NOTIFICATION_EVENT_TYPES = [
  "EXECUTION_STARTED",
  "EXECUTION_SUCCEEDED",
  "EXECUTION_FAILED",
  "EXECUTION_STOPPED",
  "EXECUTION_SUPERSEDED",
  "EXECUTION_RESUMED",
  "STAGE_STARTED",
  "STAGE_SUCCEEDED",
  "STAGE_FAILED",
  "STAGE_ROLLED_BACK",
  "ACTION_STARTED",
  "ACTION_SUCCEEDED",
  "ACTION_FAILED",
  "APPROVAL_NEEDED",
  "APPROVAL_APPROVED",
  "APPROVAL_REJECTED",
  "APPROVAL_TIMED_OUT",
  "TRANSITION_DISABLED",
  "TRANSITION_ENABLED",
  "PIPELINE_CREATED",
  "PIPELINE_UPDATED",
  "PIPELINE_DELETED",
] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

/** A pipeline event as the outbox carries it (protocol 5.9), plus what a rollback adds. */
export interface NotifiedEvent {
  pipelineName: string;
  /** The pipeline's account; absent: the default account. */
  account?: string;
  type: string;
  executionId: string | null;
  sequence: number | null;
  stageName?: string;
  actionName?: string;
  actionExecutionId?: string;
  status?: string;
  pipelineVersion?: number;
  by?: string;
  at: string;
}

/** What the event's facts say, as one notification event type; null when no rule can match it. */
export function notificationTypeOf(
  event: NotifiedEvent,
  execution?: { triggerType?: string | null } | null,
): NotificationEventType | null {
  // A rollback re-runs a stage in an execution of its own: that stage succeeding is the rollback done.
  const rollback =
    execution?.triggerType === "ManualRollback" || execution?.triggerType === "AutomatedRollback";
  if (event.type === "STAGE_SUCCEEDED" && rollback) return "STAGE_ROLLED_BACK";
  return (NOTIFICATION_EVENT_TYPES as readonly string[]).includes(event.type)
    ? (event.type as NotificationEventType)
    : null;
}
