/**
 * Stop and retry (PIPELINE-MODEL.md, "How revisions flow").
 *
 * Stop: abandon=false (stop and wait) lets running actions finish and starts nothing new;
 * abandon=true marks running actions Abandoned at once and tells their agents. Either way the
 * execution is Stopping until nothing of it runs, then Stopped (run-orders.ts). A manual approval
 * still pending is abandoned by both kinds: there is no work to wait for, only a decision. An
 * execution waiting at a stage's entry ends Stopped at once. Like CodePipeline, a Stopping
 * execution (stop and wait) may still be stopped with abandon=true.
 *
 * Retry: on a Failed or Stopped stage of the execution that entered that stage last, with nothing
 * of it running (the stage is then free: whoever entered it after this execution would be the
 * latest); FAILED_ACTIONS re-runs the failed and abandoned actions (and
 * those never started), ALL_ACTIONS every action from the lowest runOrder. The execution pinned
 * its document, so the stage's structure is always the one it started with.
 */
import { ConflictError, NotFoundError } from "../errors";
import { abandon, dropRetry } from "./actions";
import type { Step } from "./events";
import { stopSummary } from "./run-orders";
import { own } from "./records";
import { leaveLine } from "./stage-entry";
import {
  actionStatus,
  currentAttempt,
  enteredStage,
  isPendingApproval,
  isRunning,
  setExecutionStatus,
  setStageStatus,
  stageRuntime,
} from "./state";
import type { ExecutionState, RetryStageEvent, StopExecutionEvent } from "./types";

export function stopExecution(step: Step, event: StopExecutionEvent): void {
  const execution = own(step.runtime.executions, event.executionId);
  const escalation = execution?.status === "Stopping" && event.abandon && !execution.stop?.abandon;
  if (execution === undefined || (execution.status !== "InProgress" && !escalation)) {
    const status = execution?.status ?? "not in progress";
    throw new ConflictError(
      `Execution ${event.executionId} is ${status}; only an InProgress execution can be stopped` +
        (execution?.status === "Stopping" ? " (a Stopping one can still be stopped with abandon)." : "."),
      { executionId: event.executionId, status: execution?.status ?? null },
    );
  }
  execution.stop = { abandon: event.abandon, reason: event.reason, by: event.by, at: step.now };
  const current = execution.current!;
  if (!current.entered) {
    leaveLine(step, execution);
    return setExecutionStatus(step, execution, "Stopped", stopSummary(execution));
  }
  if (!escalation) {
    setExecutionStatus(step, execution, "Stopping", stopSummary(execution));
    setStageStatus(step, execution, current.stageIndex, "Stopping");
  }
  const reason = `${event.abandon ? "Abandoned" : "Stopped"} by ${event.by}: ${event.reason}`;
  enteredStage(execution)!.actions.forEach((action, actionIndex) => {
    const attempt = currentAttempt(action);
    if (attempt === undefined || !isRunning(action)) return;
    const at = { execution, stageIndex: current.stageIndex, actionIndex, action, attempt };
    if (action.retryAt) return dropRetry(step, at);
    if (event.abandon || isPendingApproval(action)) abandon(step, at, reason);
  });
}

export function retryStage(step: Step, event: RetryStageEvent): void {
  const execution = own(step.runtime.executions, event.executionId);
  const stageIndex = execution?.document.stages.findIndex((stage) => stage.name === event.stageName) ?? -1;
  if (execution !== undefined && stageIndex < 0)
    throw new NotFoundError(`Execution ${event.executionId} has no stage "${event.stageName}".`);
  refuseRetry(step, event, execution, stageIndex);
  const exec = execution!;
  const stage = exec.stages[stageIndex]!;
  for (const action of stage.actions) {
    const status = actionStatus(action);
    if (event.mode === "ALL_ACTIONS" || status === "Failed" || status === "Abandoned") action.pending = true;
  }
  exec.stop = null;
  exec.current = { stageIndex, entered: true };
  stage.runStartTime = step.now;
  stageRuntime(step.runtime, stage.stageName).inside.push(exec.executionId);
  setExecutionStatus(step, exec, "InProgress", null);
  setStageStatus(step, exec, stageIndex, "InProgress", "STAGE_RESUMED");
}

/** Throws a CONFLICT naming the first retry condition that does not hold. */
function refuseRetry(
  step: Step,
  event: RetryStageEvent,
  execution: ExecutionState | undefined,
  stageIndex: number,
): void {
  const { executionId, stageName } = event;
  const refuse = (condition: string, message: string) => {
    throw new ConflictError(message, { condition, executionId, stageName });
  };
  const stage = stageRuntime(step.runtime, stageName);
  if (execution === undefined || stage.latest?.executionId !== executionId)
    refuse(
      "NOT_LATEST_EXECUTION",
      `Execution ${executionId} is not the latest execution in stage "${stageName}"` +
        (stage.latest ? ` (${stage.latest.executionId} is).` : "."),
    );
  const state = execution!.stages[stageIndex]!;
  // Checked before the stage's status: a stage with a failed action stays InProgress until its
  // running siblings end, and "B still runs" says more than "the stage is InProgress".
  const running = state.actions.filter(isRunning).map((action) => action.actionName);
  if (running.length > 0)
    refuse(
      "ACTIONS_RUNNING",
      `Actions of stage "${stageName}" of execution ${executionId} still run: ${running.join(", ")}.`,
    );
  if (state.status !== "Failed" && state.status !== "Stopped")
    refuse(
      "STAGE_NOT_FAILED_OR_STOPPED",
      `Stage "${stageName}" of execution ${executionId} is ${state.status ?? "not started"}; only a Failed or Stopped stage can be retried.`,
    );
}
