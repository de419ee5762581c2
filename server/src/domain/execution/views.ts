/**
 * Read models: the full snapshot of one execution (the engine stores it after each decision that
 * changed it) and the pipeline's state per stage (`pipeline { state { stages { ... } } }`).
 * Views share nothing with the runtime.
 */
import type { PipelineDocument } from "../pipeline/document";
import { own } from "./records";
import {
  actionDeclaration,
  actionStatus,
  currentAttempt,
  isPendingApproval,
  stageDeclaration,
} from "./state";
import type {
  ActionExecutionView,
  ActionLatestView,
  ActionState,
  AttemptState,
  ExecutionState,
  ExecutionView,
  PipelineRuntime,
  StageStateView,
  TransitionView,
  WaitingReason,
} from "./types";

export function executionView(runtime: PipelineRuntime, executionId: string): ExecutionView | undefined {
  const execution = own(runtime.executions, executionId);
  if (execution === undefined) return undefined;
  const current = execution.current;
  return structuredClone({
    pipelineName: runtime.pipelineName,
    executionId,
    pipelineVersion: execution.pipelineVersion,
    executionMode: execution.document.executionMode,
    status: execution.status,
    statusSummary: execution.statusSummary,
    trigger: execution.trigger,
    sourceRevisions: execution.sourceRevisions,
    variables: Object.entries(execution.variables).map(([name, resolvedValue]) => ({ name, resolvedValue })),
    rollback: execution.rollback,
    startTime: execution.startTime,
    lastUpdateTime: execution.lastUpdateTime,
    endTime: execution.endTime,
    sequence: execution.sequence,
    stop: execution.stop,
    currentStage:
      current === null
        ? null
        : { stageName: stageDeclaration(execution, current.stageIndex).name, entered: current.entered },
    waitingReason: execution.waitingReason,
    stages: execution.stages.map((stage, stageIndex) => ({
      stageName: stage.stageName,
      status: stage.status,
      startTime: stage.startTime,
      endTime: stage.endTime,
      actions: stage.actions.map((action, actionIndex) => actionView(execution, stageIndex, actionIndex)),
    })),
    outputVariables: execution.outputVariables,
    artifacts: Object.values(execution.artifacts),
  });
}

function actionView(execution: ExecutionState, stageIndex: number, actionIndex: number): ActionExecutionView {
  const action = execution.stages[stageIndex]!.actions[actionIndex]!;
  const declaration = actionDeclaration(execution, stageIndex, actionIndex);
  const attempt = currentAttempt(action);
  return {
    actionName: action.actionName,
    actionTypeId: declaration.actionTypeId,
    runOrder: declaration.runOrder,
    namespace: declaration.namespace,
    region: declaration.region,
    status: attempt?.status ?? null,
    approvalPending: attempt?.approvalPending ?? false,
    actionExecutionId: attempt?.actionExecutionId ?? null,
    attempt: attempt?.attempt ?? 0,
    summary: attempt?.summary ?? null,
    errorDetails: attempt?.errorDetails ?? null,
    externalUrl: attempt?.externalUrl ?? null,
    startTime: attempt?.startTime ?? null,
    endTime: attempt?.endTime ?? null,
    resolvedConfiguration: attempt?.resolvedConfiguration ?? null,
    waitingReason: actionWaitingReason(execution, stageIndex, actionIndex),
    retryAt: action.retryAt ?? null,
    failureType: attempt?.failureType ?? null,
    testReport: attempt?.testReport ?? null,
    attempts: action.attempts,
  };
}

/**
 * Why an action of the stage the execution works in does not run yet: a Queued one waits for an
 * agent (NO_AGENT; a later issue adds which agents could take it), a pending one for its lower
 * runOrders (RUN_ORDER). Actions that will not run in this stage run (the stage failed or the
 * execution stops) and actions of other stages have none.
 */
export function actionWaitingReason(
  execution: ExecutionState,
  stageIndex: number,
  actionIndex: number,
): WaitingReason | null {
  const current = execution.current;
  if (execution.status !== "InProgress" || !current?.entered || current.stageIndex !== stageIndex)
    return null;
  const stage = execution.stages[stageIndex]!;
  const action = stage.actions[actionIndex]!;
  const attempt = currentAttempt(action);
  if (attempt?.status === "Queued") {
    const region = actionDeclaration(execution, stageIndex, actionIndex).region;
    return {
      code: "NO_AGENT",
      message: `Dispatched; waits for an agent of ${region === null ? "the default pool" : `pool "${region}"`} to take it.`,
      since: attempt.queuedAt,
      blockedBy: {},
    };
  }
  if (!action.pending || stage.actions.some((a) => ["Failed", "Abandoned"].includes(actionStatus(a) ?? "")))
    return null;
  const runOrder = actionDeclaration(execution, stageIndex, actionIndex).runOrder;
  const blocking = stage.actions
    .map((other, index) => ({ other, declaration: actionDeclaration(execution, stageIndex, index) }))
    .filter(
      ({ other, declaration }) => declaration.runOrder < runOrder && actionStatus(other) !== "Succeeded",
    );
  if (blocking.length === 0) return null;
  const lowest = Math.min(...blocking.map(({ declaration }) => declaration.runOrder));
  const names = blocking
    .filter(({ declaration }) => declaration.runOrder === lowest)
    .map(({ other }) => other.actionName);
  return {
    code: "RUN_ORDER",
    message: `Waits for runOrder ${lowest} (${names.join(", ")}) to succeed before runOrder ${runOrder} starts.`,
    since: stage.runStartTime ?? execution.lastUpdateTime,
    blockedBy: { approvalPending: blocking.some(({ other }) => isPendingApproval(other)) },
  };
}

export function stageStateView(runtime: PipelineRuntime, document: PipelineDocument): StageStateView[] {
  return document.stages.map((stage, stageIndex) => {
    const state = own(runtime.stages, stage.name);
    return structuredClone({
      stageName: stage.name,
      inboundTransition: stageIndex === 0 ? null : transitionView(runtime, stage.name),
      latestExecution: state?.latest ?? null,
      waitingExecutions: (state?.waiting ?? []).map((executionId) => ({
        executionId,
        waitingReason: own(runtime.executions, executionId)?.waitingReason ?? null,
      })),
      actions: stage.actions.map((action) => ({
        actionName: action.name,
        latestExecution: latestAction(runtime, stage.name, action.name),
      })),
    });
  });
}

function transitionView(runtime: PipelineRuntime, stageName: string): TransitionView {
  const transition = own(runtime.transitions, stageName);
  return (
    transition ?? {
      enabled: true,
      disabledReason: null,
      disabledBy: null,
      disabledAt: null,
      lastChangedBy: null,
      lastChangedAt: null,
    }
  );
}

function latestAction(
  runtime: PipelineRuntime,
  stageName: string,
  actionName: string,
): ActionLatestView | null {
  const pointer = own(own(runtime.stages, stageName)?.latestActions, actionName);
  const execution = pointer && own(runtime.executions, pointer.executionId);
  const action = execution?.stages
    .find((s) => s.stageName === stageName)
    ?.actions.find((a) => a.actionName === actionName);
  const attempt = action && findAttempt(action, pointer!.actionExecutionId);
  if (attempt === undefined) return null;
  return {
    executionId: pointer!.executionId,
    actionExecutionId: attempt.actionExecutionId,
    attempt: attempt.attempt,
    status: attempt.status,
    approvalPending: attempt.approvalPending,
    summary: attempt.summary,
    errorDetails: attempt.errorDetails,
    externalUrl: attempt.externalUrl,
    lastStatusChange: attempt.lastUpdateTime,
  };
}

function findAttempt(action: ActionState, actionExecutionId: string): AttemptState | undefined {
  return action.attempts.find((attempt) => attempt.actionExecutionId === actionExecutionId);
}

/** The last execution that succeeded in the stage (what a rollback of it goes back to), if any. */
export function lastSucceededExecution(runtime: PipelineRuntime, stageName: string): string | null {
  return own(runtime.stages, stageName)?.lastSucceeded?.executionId ?? null;
}
