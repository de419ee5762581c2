/**
 * One action's attempts: starting one (Dispatch, or a pending approval), an agent taking it, its
 * result, its timeout, abandoning it. Each attempt gets a fresh actionExecutionId; results are
 * matched on (actionExecutionId, attempt) against the action's current attempt only, so duplicates
 * and late results of an attempt that already ended change nothing.
 */
import { defaultTimeoutInMinutes } from "../limits";
import type { ActionDeclaration } from "../pipeline/document";
import { effect, emit, type Step } from "./events";
import { own, setOwn } from "./records";
import { actionDeclaration, stageRuntime, type AttemptLocation } from "./state";
import type {
  ActionCompletedEvent,
  ActionStatus,
  AgentRef,
  ArtifactLocation,
  AttemptState,
  ExecutionState,
  PipelineEventType,
} from "./types";
import { resolveConfiguration } from "./variables";

const TIMER_PREFIX = "action-timeout";
const TIMER_KEY = new RegExp(`^${TIMER_PREFIX}:(.+):(\\d+)$`);

/** The timer of one attempt (action timeout, or approval timeout). Unique: ids are unique. */
export function timerKey(actionExecutionId: string, attempt: number): string {
  return `${TIMER_PREFIX}:${actionExecutionId}:${attempt}`;
}

export function parseTimerKey(key: string): { actionExecutionId: string; attempt: number } | undefined {
  const match = TIMER_KEY.exec(key);
  return match ? { actionExecutionId: match[1]!, attempt: Number(match[2]) } : undefined;
}

/** Approval/Manual: the machine itself holds it pending; nothing is dispatched to an agent. */
export function isManualApproval(declaration: ActionDeclaration): boolean {
  return declaration.actionTypeId.category === "Approval" && declaration.actionTypeId.provider === "Manual";
}

export function timeoutOf(declaration: ActionDeclaration): number {
  return declaration.timeoutInMinutes ?? defaultTimeoutInMinutes(declaration.actionTypeId);
}

function addMinutes(iso: string, minutes: number): string {
  return new Date(Date.parse(iso) + minutes * 60_000).toISOString();
}

/** Starts the next attempt of an action whose lower runOrders all succeeded. */
export function startAction(step: Step, execution: ExecutionState, stageIndex: number, actionIndex: number) {
  const stage = execution.stages[stageIndex]!;
  const action = stage.actions[actionIndex]!;
  const declaration = actionDeclaration(execution, stageIndex, actionIndex);
  const resolved = resolveConfiguration(execution, declaration.configuration);
  const inputs = declaration.inputArtifacts.map(({ name }) => own(execution.artifacts, name) ?? name);
  const missing = inputs.filter((input): input is string => typeof input === "string");
  const attempt: AttemptState = {
    actionExecutionId: step.newId(),
    attempt: action.attempts.length + 1,
    status: "Queued",
    approvalPending: false,
    summary: null,
    errorDetails: null,
    externalUrl: null,
    agent: null,
    queuedAt: step.now,
    startTime: null,
    endTime: null,
    lastUpdateTime: step.now,
    timeoutInMinutes: timeoutOf(declaration),
    resolvedConfiguration: resolved.configuration,
    inputArtifacts: inputs.filter((input): input is ArtifactLocation => typeof input !== "string"),
    outputArtifacts: [],
    outputVariables: {},
    approval: null,
  };
  action.attempts.push(attempt);
  action.pending = false;
  setOwn(stageRuntime(step.runtime, stage.stageName).latestActions, action.actionName, {
    executionId: execution.executionId,
    actionExecutionId: attempt.actionExecutionId,
  });
  const at = { execution, stageIndex, actionIndex, action, attempt };

  const problem = startProblem(resolved.unresolved, missing);
  if (problem !== undefined) {
    attempt.status = "Failed";
    attempt.summary = problem.message;
    attempt.errorDetails = problem;
    attempt.endTime = step.now;
    return emitAction(step, at, "ACTION_FAILED");
  }
  const timer = timerKey(attempt.actionExecutionId, attempt.attempt);
  effect(step, {
    type: "ScheduleTimer",
    timerKey: timer,
    at: addMinutes(step.now, attempt.timeoutInMinutes),
  });
  if (isManualApproval(declaration)) {
    attempt.status = "InProgress";
    attempt.approvalPending = true;
    attempt.startTime = step.now;
    return emitAction(step, at, "APPROVAL_NEEDED");
  }
  effect(step, {
    type: "Dispatch",
    actionExecutionId: attempt.actionExecutionId,
    attempt: attempt.attempt,
    executionId: execution.executionId,
    pipelineName: step.runtime.pipelineName,
    stageName: stage.stageName,
    actionName: action.actionName,
    actionTypeId: { ...declaration.actionTypeId },
    runOrder: declaration.runOrder,
    configuration: { ...resolved.configuration },
    inputArtifacts: attempt.inputArtifacts.map((artifact) => ({ ...artifact })),
    outputArtifacts: declaration.outputArtifacts.map(({ name }) => ({ name })),
    region: declaration.region,
    timeoutInMinutes: attempt.timeoutInMinutes,
    sourceRevision: sourceRevisionOf(execution, declaration),
  });
  emitAction(step, at, "ACTION_QUEUED");
}

/** Why an action cannot even be dispatched (it then fails at once, as CodePipeline's does). */
function startProblem(unresolved: string[], missing: string[]) {
  if (unresolved.length > 0)
    return {
      code: "ConfigurationError",
      message: `The configuration refers to ${unresolved.join(", ")}, which has no value in this execution.`,
    };
  if (missing.length > 0)
    return {
      code: "ConfigurationError",
      message: `No earlier action of this execution produced the input artifact${missing.length > 1 ? "s" : ""} ${missing.join(", ")}.`,
    };
  return undefined;
}

function sourceRevisionOf(execution: ExecutionState, declaration: ActionDeclaration) {
  if (declaration.actionTypeId.category !== "Source") return null;
  const revision = execution.sourceRevisions.find((r) => r.actionName === declaration.name);
  return revision === undefined ? null : { ...revision };
}

function emitAction(step: Step, at: AttemptLocation, type: PipelineEventType): void {
  at.attempt.lastUpdateTime = step.now;
  emit(step, at.execution, type, {
    stageName: at.execution.stages[at.stageIndex]!.stageName,
    actionName: at.action.actionName,
    actionExecutionId: at.attempt.actionExecutionId,
    status: at.attempt.status,
  });
}

// ── Results ──────────────────────────────────────────────────────────────────────────────────────

/** An agent took the job: Queued → InProgress. Anything else (late, duplicate) is ignored. */
export function markStarted(step: Step, at: AttemptLocation, agent: AgentRef): void {
  if (at.attempt.status !== "Queued") return;
  at.attempt.status = "InProgress";
  at.attempt.agent = { id: agent.id, name: agent.name };
  at.attempt.startTime = step.now;
  emitAction(step, at, "ACTION_STARTED");
}

/** The agent's result for a Queued or InProgress attempt; anything else is ignored. */
export function recordResult(step: Step, at: AttemptLocation, result: ActionCompletedEvent): void {
  const { attempt, execution } = at;
  if (attempt.status !== "Queued" && attempt.status !== "InProgress") return;
  if (attempt.approvalPending) return; // decided by ApprovalResult only
  attempt.summary = result.summary;
  attempt.errorDetails = result.errorDetails ?? null;
  attempt.externalUrl = result.externalUrl ?? null;
  if (result.outcome === "Succeeded") {
    attempt.outputVariables = { ...(result.outputVariables ?? {}) };
    attempt.outputArtifacts = (result.outputArtifacts ?? []).map((artifact) => ({ ...artifact }));
    const namespace = actionDeclaration(execution, at.stageIndex, at.actionIndex).namespace;
    if (namespace !== null) setOwn(execution.outputVariables, namespace, { ...attempt.outputVariables });
    for (const artifact of attempt.outputArtifacts) setOwn(execution.artifacts, artifact.name, artifact);
  }
  endAttempt(step, at, result.outcome, result.outcome === "Succeeded" ? "ACTION_SUCCEEDED" : "ACTION_FAILED");
}

/** The attempt's timer fired while it still runs: it fails, and the agent is told to stop. */
export function timeOut(step: Step, at: AttemptLocation): void {
  const { attempt } = at;
  const minutes = attempt.timeoutInMinutes;
  if (attempt.approvalPending) {
    attempt.summary = `Approval timed out after ${minutes} minutes.`;
    return endAttempt(step, at, "Failed", "APPROVAL_TIMED_OUT", { cancelTimer: false });
  }
  attempt.summary = `Timed out after ${minutes} minutes.`;
  attempt.errorDetails = { code: "Timeout", message: attempt.summary };
  cancelJob(step, at, attempt.summary);
  endAttempt(step, at, "Failed", "ACTION_FAILED", { cancelTimer: false });
}

/** Ends a running attempt as Abandoned (stop with abandon, stop of a pending approval, supersede). */
export function abandon(step: Step, at: AttemptLocation, reason: string): void {
  if (!at.attempt.approvalPending) cancelJob(step, at, reason);
  at.attempt.summary = reason;
  endAttempt(step, at, "Abandoned", "ACTION_ABANDONED");
}

function cancelJob(step: Step, at: AttemptLocation, reason: string): void {
  effect(step, {
    type: "Cancel",
    actionExecutionId: at.attempt.actionExecutionId,
    attempt: at.attempt.attempt,
    reason,
  });
}

export function endAttempt(
  step: Step,
  at: AttemptLocation,
  status: Exclude<ActionStatus, "Queued" | "InProgress">,
  type: PipelineEventType,
  options: { cancelTimer: boolean } = { cancelTimer: true },
): void {
  const { attempt } = at;
  attempt.status = status;
  attempt.approvalPending = false;
  attempt.endTime = step.now;
  if (options.cancelTimer)
    effect(step, { type: "CancelTimer", timerKey: timerKey(attempt.actionExecutionId, attempt.attempt) });
  emitAction(step, at, type);
}
