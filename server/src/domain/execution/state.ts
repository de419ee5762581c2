/**
 * Reading and changing the runtime's parts: lookups, and the one place each status changes (so the
 * stage pointers and the events never drift from the statuses).
 */
import type { ActionDeclaration, StageDeclaration } from "../pipeline/document";
import { emit, type Step } from "./events";
import { own, setOwn } from "./records";
import {
  FINAL_EXECUTION_STATUSES,
  type ActionState,
  type ActionStatus,
  type AttemptState,
  type ExecutionState,
  type ExecutionStatus,
  type PipelineEventType,
  type PipelineRuntime,
  type StageExecutionState,
  type StageRuntime,
  type StageStatus,
  type TransitionState,
} from "./types";

export function emptyRuntime(pipelineName: string): PipelineRuntime {
  return { pipelineName, nextStartOrder: 1, transitions: {}, stages: {}, executions: {} };
}

export function isFinal(status: ExecutionStatus): boolean {
  return FINAL_EXECUTION_STATUSES.includes(status);
}

/** The stage's cross-execution state, created on first use. */
export function stageRuntime(runtime: PipelineRuntime, stageName: string): StageRuntime {
  let stage = own(runtime.stages, stageName);
  if (stage === undefined) {
    stage = { inside: [], waiting: [], latest: null, lastSucceeded: null, latestActions: {} };
    setOwn(runtime.stages, stageName, stage);
  }
  return stage;
}

export function transitionOf(runtime: PipelineRuntime, stageName: string): TransitionState | undefined {
  return own(runtime.transitions, stageName);
}

/** Only stages after the first have an inbound transition; a disabled one holds arrivals. */
export function transitionHolds(runtime: PipelineRuntime, stageName: string, stageIndex: number): boolean {
  return stageIndex > 0 && transitionOf(runtime, stageName)?.enabled === false;
}

export function stageDeclaration(execution: ExecutionState, stageIndex: number): StageDeclaration {
  return execution.document.stages[stageIndex]!;
}

export function actionDeclaration(
  execution: ExecutionState,
  stageIndex: number,
  actionIndex: number,
): ActionDeclaration {
  return stageDeclaration(execution, stageIndex).actions[actionIndex]!;
}

export function currentAttempt(action: ActionState): AttemptState | undefined {
  return action.pending ? undefined : action.attempts[action.attempts.length - 1];
}

export function actionStatus(action: ActionState): ActionStatus | null {
  return currentAttempt(action)?.status ?? null;
}

/** Queued or InProgress (a pending approval counts: it holds the stage). */
export function isRunning(action: ActionState): boolean {
  if (action.retryAt) return true;
  const status = actionStatus(action);
  return status === "Queued" || status === "InProgress";
}

export function isPendingApproval(action: ActionState): boolean {
  const attempt = currentAttempt(action);
  return attempt !== undefined && attempt.status === "InProgress" && attempt.approvalPending;
}

/** The stage the execution works in (entered), if any. */
export function enteredStage(execution: ExecutionState): StageExecutionState | undefined {
  const current = execution.current;
  return current?.entered ? execution.stages[current.stageIndex] : undefined;
}

export function activeExecutions(runtime: PipelineRuntime): ExecutionState[] {
  return Object.values(runtime.executions)
    .filter((execution) => !isFinal(execution.status))
    .sort((a, b) => a.startOrder - b.startOrder);
}

export interface AttemptLocation {
  execution: ExecutionState;
  stageIndex: number;
  actionIndex: number;
  action: ActionState;
  attempt: AttemptState;
}

/**
 * The attempt with this action execution id, when it is its action's current attempt in an
 * execution the runtime holds. Earlier attempts and unknown ids give undefined: results for them
 * change nothing.
 */
export function findCurrentAttempt(
  runtime: PipelineRuntime,
  actionExecutionId: string,
): AttemptLocation | undefined {
  for (const execution of Object.values(runtime.executions)) {
    for (const [stageIndex, stage] of execution.stages.entries()) {
      for (const [actionIndex, action] of stage.actions.entries()) {
        const attempt = currentAttempt(action);
        if (attempt?.actionExecutionId === actionExecutionId)
          return { execution, stageIndex, actionIndex, action, attempt };
      }
    }
  }
  return undefined;
}

// ── Status changes ───────────────────────────────────────────────────────────────────────────────

const STAGE_EVENTS: Record<StageStatus, PipelineEventType> = {
  InProgress: "STAGE_STARTED",
  Stopping: "STAGE_STOPPING",
  Stopped: "STAGE_STOPPED",
  Succeeded: "STAGE_SUCCEEDED",
  Failed: "STAGE_FAILED",
  Cancelled: "STAGE_CANCELLED",
  Skipped: "STAGE_SKIPPED",
};

/** Changes the execution's status in a stage; keeps the stage's `latest` pointer in step. */
export function setStageStatus(
  step: Step,
  execution: ExecutionState,
  stageIndex: number,
  status: StageStatus,
  eventType: PipelineEventType = STAGE_EVENTS[status],
): void {
  const stage = execution.stages[stageIndex]!;
  stage.status = status;
  const final = status !== "InProgress" && status !== "Stopping";
  stage.endTime = final ? step.now : null;
  const pointer = stageRuntime(step.runtime, stage.stageName);
  if (pointer.latest?.executionId === execution.executionId) pointer.latest.status = status;
  emit(step, execution, eventType, { stageName: stage.stageName, status });
}

const EXECUTION_EVENTS: Record<ExecutionStatus, PipelineEventType> = {
  InProgress: "EXECUTION_RESUMED",
  Stopping: "EXECUTION_STOPPING",
  Stopped: "EXECUTION_STOPPED",
  Succeeded: "EXECUTION_SUCCEEDED",
  Superseded: "EXECUTION_SUPERSEDED",
  Failed: "EXECUTION_FAILED",
  Cancelled: "EXECUTION_CANCELLED",
};

export function setExecutionStatus(
  step: Step,
  execution: ExecutionState,
  status: ExecutionStatus,
  statusSummary: string | null,
): void {
  execution.status = status;
  execution.statusSummary = statusSummary;
  if (isFinal(status)) {
    execution.endTime = step.now;
    execution.current = null;
    execution.waitingReason = null;
  } else {
    execution.endTime = null;
  }
  emit(step, execution, EXECUTION_EVENTS[status], { status });
}
