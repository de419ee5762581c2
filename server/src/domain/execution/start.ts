/**
 * StartExecution: a new execution pins the document it started with, its source revisions and
 * variables, and arrives at the entry of the first stage; a rollback arrives at the entry of its
 * one stage instead, with the artifacts and output variables of the execution it rolls back to.
 */
import { ConflictError, DomainError } from "../errors";
import { emit, type Step } from "./events";
import { setOwn } from "./records";
import { checkStartInput } from "./start-input";
import { arrive } from "./stage-entry";
import type { ExecutionState, NamespacedVariables, StartExecutionEvent } from "./types";
import { startVariables } from "./variables";

const ROLLBACK_TRIGGERS: readonly string[] = ["ManualRollback", "AutomatedRollback"];

export function startExecution(step: Step, event: StartExecutionEvent): void {
  if (Object.hasOwn(step.runtime.executions, event.executionId))
    throw new ConflictError(`Execution ${event.executionId} already exists.`);
  checkStartInput(event.sourceRevisions, event.variables);
  const variables = startVariables(event.document, event.variables);
  const rollbackStage = rollbackStageIndex(event);
  const rollback = event.rollback ?? null;
  const execution: ExecutionState = {
    executionId: event.executionId,
    startOrder: step.runtime.nextStartOrder,
    status: "InProgress",
    statusSummary: null,
    document: structuredClone(event.document),
    pipelineVersion: event.pipelineVersion,
    trigger: { triggerType: event.trigger.triggerType, triggerDetail: event.trigger.triggerDetail ?? null },
    sourceRevisions: event.sourceRevisions.map((revision) => ({
      actionName: revision.actionName,
      revisionId: revision.revisionId,
      revisionSummary: revision.revisionSummary ?? null,
      revisionUrl: revision.revisionUrl ?? null,
    })),
    variables,
    rollback: rollback && { stageName: rollback.stageName, fromExecutionId: rollback.fromExecutionId },
    startTime: step.now,
    lastUpdateTime: step.now,
    endTime: null,
    sequence: 0,
    stop: null,
    current: null,
    waitingReason: null,
    stages: event.document.stages.map((stage) => ({
      stageName: stage.name,
      status: null,
      startTime: null,
      runStartTime: null,
      endTime: null,
      actions: stage.actions.map((action) => ({ actionName: action.name, attempts: [], pending: true })),
    })),
    outputVariables: copyVariables(rollback?.variables ?? {}),
    artifacts: {},
  };
  for (const artifact of rollback?.artifacts ?? [])
    setOwn(execution.artifacts, artifact.name, { ...artifact });
  step.runtime.nextStartOrder += 1;
  setOwn(step.runtime.executions, execution.executionId, execution);
  emit(step, execution, "EXECUTION_STARTED", { status: "InProgress" });
  arrive(step, execution, rollbackStage);
}

/** 0, or the stage a rollback runs; a rollback that cannot run is BAD_USER_INPUT. */
function rollbackStageIndex(event: StartExecutionEvent): number {
  const rollback = event.rollback ?? null;
  const isRollbackTrigger = ROLLBACK_TRIGGERS.includes(event.trigger.triggerType);
  const bad = (message: string) => new DomainError("BAD_USER_INPUT", message);
  if (rollback === null) {
    if (isRollbackTrigger)
      throw bad(`A ${event.trigger.triggerType} execution needs the stage to roll back.`);
    return 0;
  }
  if (!isRollbackTrigger)
    throw bad(
      `A rollback is started with trigger ManualRollback or AutomatedRollback, not ${event.trigger.triggerType}.`,
    );
  if (event.document.executionMode === "PARALLEL")
    throw bad("A pipeline in PARALLEL mode cannot roll back: its executions run independently.");
  const index = event.document.stages.findIndex((stage) => stage.name === rollback.stageName);
  if (index < 0) throw bad(`The pipeline has no stage "${rollback.stageName}" to roll back.`);
  if (index === 0)
    throw bad(`The first stage ("${rollback.stageName}") holds the sources; it cannot be rolled back.`);
  return index;
}

function copyVariables(variables: NamespacedVariables): NamespacedVariables {
  const copy: NamespacedVariables = {};
  for (const [namespace, values] of Object.entries(variables)) setOwn(copy, namespace, { ...values });
  return copy;
}
