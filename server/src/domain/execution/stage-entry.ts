/**
 * A stage's entry: locking, the line of waiting executions, supersede (PIPELINE-MODEL.md, "How
 * revisions flow").
 *
 * - SUPERSEDED: one execution inside a stage at a time. Of two executions waiting at the same
 *   entry the older ends Superseded, so at most one waits. Only a waiting execution is superseded,
 *   except under the stage's `onNewerRevision: SUPERSEDE_PENDING_APPROVAL` (see canReplaceHolder).
 * - QUEUED: the same lock; the waiting ones form a line and enter in arrival order.
 * - PARALLEL: no lock.
 * - In every mode a disabled inbound transition holds what arrives and stops nothing inside.
 *
 * The lock rule of an arrival is the arriving execution's own (pinned) execution mode.
 */
import { abandon } from "./actions";
import { emit, type Step } from "./events";
import {
  currentAttempt,
  enteredStage,
  isPendingApproval,
  setExecutionStatus,
  setStageStatus,
  stageDeclaration,
  stageRuntime,
  transitionHolds,
  transitionOf,
} from "./state";
import type { ExecutionState, StageRuntime, WaitingReason } from "./types";

function execution(step: Step, executionId: string): ExecutionState {
  return step.runtime.executions[executionId]!;
}

/** The execution reaches the entry of `stageIndex`: it waits there until admitStage lets it in. */
export function arrive(step: Step, arriving: ExecutionState, stageIndex: number): void {
  const stageName = stageDeclaration(arriving, stageIndex).name;
  arriving.current = { stageIndex, entered: false };
  const stage = stageRuntime(step.runtime, stageName);
  if (arriving.document.executionMode === "SUPERSEDED") {
    for (const waitingId of [...stage.waiting]) {
      const other = execution(step, waitingId);
      if (other.document.executionMode !== "SUPERSEDED") continue;
      if (other.startOrder > arriving.startOrder) {
        // A rollback (newest) may wait where an older execution arrives later: the older is stale.
        return supersedeWaiting(step, stage, arriving, other, stageName);
      }
      supersedeWaiting(step, stage, other, arriving, stageName);
    }
  }
  stage.waiting.push(arriving.executionId);
}

function supersedeWaiting(
  step: Step,
  stage: StageRuntime,
  superseded: ExecutionState,
  by: ExecutionState,
  stageName: string,
): void {
  stage.waiting = stage.waiting.filter((id) => id !== superseded.executionId);
  setExecutionStatus(
    step,
    superseded,
    "Superseded",
    `Superseded by the newer execution ${by.executionId} at the entry of stage "${stageName}".`,
  );
}

/** Lets in whoever may enter now, in line order. True when anything changed. */
export function admitStage(step: Step, stageName: string): boolean {
  const stage = stageRuntime(step.runtime, stageName);
  let changed = false;
  for (const waitingId of [...stage.waiting]) {
    const candidate = execution(step, waitingId);
    const stageIndex = candidate.current!.stageIndex;
    if (transitionHolds(step.runtime, stageName, stageIndex)) break;
    if (candidate.document.executionMode !== "PARALLEL" && stage.inside.length > 0) {
      const holder = canReplaceHolder(step, stage, candidate);
      if (holder === undefined) break; // first in line waits, so everyone behind it does too
      supersedeHolder(step, stage, holder, candidate);
    }
    enter(step, stage, candidate, stageIndex);
    changed = true;
  }
  return changed;
}

function enter(step: Step, stage: StageRuntime, entering: ExecutionState, stageIndex: number): void {
  stage.waiting = stage.waiting.filter((id) => id !== entering.executionId);
  stage.inside.push(entering.executionId);
  stage.latest = { executionId: entering.executionId, status: "InProgress" };
  entering.current = { stageIndex, entered: true };
  entering.waitingReason = null;
  const state = entering.stages[stageIndex]!;
  state.startTime = step.now;
  state.runStartTime = step.now;
  setStageStatus(step, entering, stageIndex, "InProgress");
}

/** Takes the execution out of the stage it works in, releasing the lock. */
export function leaveStage(step: Step, leaving: ExecutionState): void {
  const current = leaving.current;
  if (!current?.entered) return;
  const stage = stageRuntime(step.runtime, stageDeclaration(leaving, current.stageIndex).name);
  stage.inside = stage.inside.filter((id) => id !== leaving.executionId);
}

/** Takes a waiting execution out of the line (it was stopped). */
export function leaveLine(step: Step, leaving: ExecutionState): void {
  const current = leaving.current;
  if (current === null || current.entered) return;
  const stage = stageRuntime(step.runtime, stageDeclaration(leaving, current.stageIndex).name);
  stage.waiting = stage.waiting.filter((id) => id !== leaving.executionId);
}

/**
 * Sluice's SUPERSEDE_PENDING_APPROVAL: in SUPERSEDED mode, when all the holder has started in the
 * stage succeeded except manual approvals still pending (at least one), a newer arrival replaces it.
 */
function canReplaceHolder(
  step: Step,
  stage: StageRuntime,
  candidate: ExecutionState,
): ExecutionState | undefined {
  if (candidate.document.executionMode !== "SUPERSEDED" || stage.inside.length !== 1) return undefined;
  const holder = execution(step, stage.inside[0]!);
  if (holder.status !== "InProgress" || holder.startOrder > candidate.startOrder) return undefined;
  if (stageDeclaration(holder, holder.current!.stageIndex).onNewerRevision !== "SUPERSEDE_PENDING_APPROVAL")
    return undefined;
  return onlyApprovalsPending(holder) ? holder : undefined;
}

/** Every action the holder started in its stage succeeded, but for pending approvals (≥ 1). */
function onlyApprovalsPending(holder: ExecutionState): boolean {
  const actions = enteredStage(holder)?.actions ?? [];
  const started = actions.filter((action) => currentAttempt(action) !== undefined);
  return (
    started.some(isPendingApproval) &&
    started.every((action) => isPendingApproval(action) || currentAttempt(action)!.status === "Succeeded")
  );
}

function supersedeHolder(step: Step, stage: StageRuntime, holder: ExecutionState, by: ExecutionState): void {
  const stageIndex = holder.current!.stageIndex;
  const state = holder.stages[stageIndex]!;
  const reason = `Superseded by the newer execution ${by.executionId}: the approval is no longer needed.`;
  state.actions.forEach((action, actionIndex) => {
    const attempt = currentAttempt(action);
    if (attempt !== undefined && isPendingApproval(action))
      abandon(step, { execution: holder, stageIndex, actionIndex, action, attempt }, reason);
  });
  setStageStatus(step, holder, stageIndex, "Cancelled");
  stage.inside = stage.inside.filter((id) => id !== holder.executionId);
  setExecutionStatus(
    step,
    holder,
    "Superseded",
    `Superseded by the newer execution ${by.executionId} while stage "${state.stageName}" waited for a manual approval.`,
  );
}

// ── Waiting reasons at the entry ─────────────────────────────────────────────────────────────────

/**
 * Gives every waiting execution its current reason. A reason that changed (code, message or what
 * blocks) gets `since` = now and an EXECUTION_WAITING event; an unchanged one keeps its `since`.
 */
export function refreshWaitingReasons(step: Step): void {
  for (const [stageName, stage] of Object.entries(step.runtime.stages)) {
    stage.waiting.forEach((waitingId, index) => {
      const waiting = execution(step, waitingId);
      const reason = waitingReason(step, stage, stageName, waiting, index);
      const previous = waiting.waitingReason;
      if (previous !== null && sameReason(previous, reason)) return;
      waiting.waitingReason = { ...reason, since: step.now };
      emit(step, waiting, "EXECUTION_WAITING", { stageName, status: waiting.status });
    });
  }
}

function sameReason(a: WaitingReason, b: Omit<WaitingReason, "since">): boolean {
  return (
    a.code === b.code &&
    a.message === b.message &&
    JSON.stringify(a.blockedBy) === JSON.stringify(b.blockedBy)
  );
}

function waitingReason(
  step: Step,
  stage: StageRuntime,
  stageName: string,
  waiting: ExecutionState,
  index: number,
): Omit<WaitingReason, "since"> {
  const queued = waiting.document.executionMode === "QUEUED";
  const position = queued ? { position: index + 1 } : {};
  const transition = transitionOf(step.runtime, stageName);
  if (transitionHolds(step.runtime, stageName, waiting.current!.stageIndex) && transition) {
    return {
      code: "TRANSITION_DISABLED",
      message: `The transition into stage "${stageName}" is disabled by ${transition.disabledBy}: ${transition.disabledReason}`,
      blockedBy: {
        disabledBy: transition.disabledBy ?? "",
        disabledReason: transition.disabledReason ?? "",
        ...position,
      },
    };
  }
  if (queued && index > 0) {
    const ahead = stage.waiting[index - 1]!;
    return {
      code: "QUEUED",
      message: `Waits in line at the entry of stage "${stageName}", behind execution ${ahead} (position ${index + 1}).`,
      blockedBy: { executionId: ahead, ...position },
    };
  }
  const holderId = stage.inside[stage.inside.length - 1];
  const holder = holderId === undefined ? undefined : execution(step, holderId);
  const approvalPending =
    holder !== undefined && (enteredStage(holder)?.actions.some(isPendingApproval) ?? false);
  return {
    code: "STAGE_BUSY",
    message:
      `Stage "${stageName}" is busy with execution ${holderId ?? "(none)"}` +
      (approvalPending ? ", which waits for a manual approval." : "."),
    blockedBy: { ...(holderId === undefined ? {} : { executionId: holderId }), approvalPending, ...position },
  };
}
