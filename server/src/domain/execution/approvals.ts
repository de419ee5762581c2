/**
 * Manual approvals (PIPELINE-MODEL.md, "Manual approval"): the machine itself holds an
 * Approval/Manual action InProgress with approvalPending until someone decides it, once, or its
 * timeout fails it (actions.ts, timeOut). Approved → Succeeded; rejected → Failed with the summary.
 */
import { ConflictError, DomainError } from "../errors";
import { MAX_APPROVAL_SUMMARY_LENGTH } from "../limits";
import { endAttempt } from "./actions";
import type { Step } from "./events";
import { findCurrentAttempt, isPendingApproval } from "./state";
import type { ApprovalResultEvent } from "./types";

export function decideApproval(step: Step, event: ApprovalResultEvent): void {
  if (event.summary.length > MAX_APPROVAL_SUMMARY_LENGTH)
    throw new DomainError(
      "BAD_USER_INPUT",
      `An approval summary has at most ${MAX_APPROVAL_SUMMARY_LENGTH} characters; this one has ${event.summary.length}.`,
    );
  const at = findCurrentAttempt(step.runtime, event.actionExecutionId);
  if (at === undefined || !isPendingApproval(at.action)) {
    const state =
      at === undefined ? "unknown, or an earlier attempt" : `it is ${at.attempt.status}, not pending`;
    throw new ConflictError(
      `Action execution ${event.actionExecutionId} is not a manual approval waiting for a decision (${state}); each approval is decided once.`,
      { actionExecutionId: event.actionExecutionId },
    );
  }
  at.attempt.approval = { approved: event.approved, summary: event.summary, by: event.by, at: step.now };
  at.attempt.summary = event.summary;
  if (event.approved) endAttempt(step, at, "Succeeded", "APPROVAL_APPROVED");
  else endAttempt(step, at, "Failed", "APPROVAL_REJECTED");
}
