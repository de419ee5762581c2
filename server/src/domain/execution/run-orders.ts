/**
 * Inside a stage: actions of the same runOrder run in parallel, and the next runOrder starts only
 * when every lower one succeeded. A failed action fails the stage once its running siblings ended,
 * and the execution with it; a stopping execution ends Stopped once nothing of it runs.
 */
import { startAction } from "./actions";
import type { Step } from "./events";
import { arrive, leaveStage } from "./stage-entry";
import {
  actionDeclaration,
  actionStatus,
  enteredStage,
  isFinal,
  isRunning,
  setExecutionStatus,
  setStageStatus,
  stageRuntime,
} from "./state";
import type { ExecutionState, StageExecutionState } from "./types";

/**
 * Moves the execution on in the stage it works in: starts the next wave, or ends the stage.
 * True when anything changed.
 */
export function advance(step: Step, execution: ExecutionState): boolean {
  const stage = enteredStage(execution);
  if (stage === undefined || isFinal(execution.status)) return false;
  if (stage.actions.some(isRunning)) return false;
  if (execution.status === "Stopping") return finishStage(step, execution, "Stopped");
  if (failedAction(stage) !== undefined) return finishStage(step, execution, "Failed");
  const stageIndex = execution.current!.stageIndex;
  const wave = nextWave(execution, stageIndex);
  if (wave.length === 0) return finishStage(step, execution, "Succeeded");
  for (const actionIndex of wave) startAction(step, execution, stageIndex, actionIndex);
  return true;
}

/** The pending actions of the lowest runOrder among the pending ones (indexes in the stage). */
export function nextWave(execution: ExecutionState, stageIndex: number): number[] {
  const pending = execution.stages[stageIndex]!.actions.flatMap((action, actionIndex) =>
    action.pending
      ? [{ actionIndex, runOrder: actionDeclaration(execution, stageIndex, actionIndex).runOrder }]
      : [],
  );
  const lowest = Math.min(...pending.map((p) => p.runOrder));
  return pending.filter((p) => p.runOrder === lowest).map((p) => p.actionIndex);
}

function failedAction(stage: StageExecutionState) {
  return stage.actions.find((action) => {
    const status = actionStatus(action);
    return status === "Failed" || status === "Abandoned";
  });
}

function finishStage(
  step: Step,
  execution: ExecutionState,
  outcome: "Succeeded" | "Failed" | "Stopped",
): true {
  const stageIndex = execution.current!.stageIndex;
  const stage = execution.stages[stageIndex]!;
  setStageStatus(step, execution, stageIndex, outcome);
  leaveStage(step, execution);
  if (outcome === "Failed") {
    const failed = failedAction(stage)!;
    const summary = failed.attempts[failed.attempts.length - 1]!.summary;
    setExecutionStatus(
      step,
      execution,
      "Failed",
      `Action "${failed.actionName}" of stage "${stage.stageName}" failed${summary ? `: ${summary}` : "."}`,
    );
  } else if (outcome === "Stopped") {
    setExecutionStatus(step, execution, "Stopped", stopSummary(execution));
  } else {
    stageRuntime(step.runtime, stage.stageName).lastSucceeded = { executionId: execution.executionId };
    const last = stageIndex === execution.stages.length - 1;
    if (execution.rollback !== null || last) setExecutionStatus(step, execution, "Succeeded", null);
    else arrive(step, execution, stageIndex + 1);
  }
  return true;
}

export function stopSummary(execution: ExecutionState): string {
  const stop = execution.stop;
  return stop === null ? "Stopped." : `Stopped by ${stop.by}: ${stop.reason}`;
}
