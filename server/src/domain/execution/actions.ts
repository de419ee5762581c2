/**
 * One action's attempts: starting one (Dispatch, or a pending approval), an agent taking it, its
 * result, its timeout, abandoning it. Each attempt gets a fresh actionExecutionId; results are
 * matched on (actionExecutionId, attempt) against the action's current attempt only, so duplicates
 * and late results of an attempt that already ended change nothing.
 */
import { defaultTimeoutInMinutes } from "../limits";
import type { ActionDeclaration, RetryPolicy } from "../pipeline/document";
import { effect, emit, type Step } from "./events";
import { classifyFailure, type FailureCause } from "./failures";
import { checkedResult } from "./output-artifacts";
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

/**
 * The timers of one attempt: its timeout (action or approval), the lease of the agent running it,
 * and the wait before its retry. Unique: action execution ids are unique.
 */
export type TimerKind = "timeout" | "lease" | "retry";
const TIMER_PREFIXES: Record<TimerKind, string> = {
  timeout: "action-timeout",
  lease: "lease",
  retry: "action-retry",
};
const TIMER_KEY = /^(action-timeout|lease|action-retry):(.+):(\d+)$/;

export function timerKey(actionExecutionId: string, attempt: number, kind: TimerKind = "timeout"): string {
  return `${TIMER_PREFIXES[kind]}:${actionExecutionId}:${attempt}`;
}

export function parseTimerKey(
  key: string,
): { kind: TimerKind; actionExecutionId: string; attempt: number } | undefined {
  const match = TIMER_KEY.exec(key);
  if (!match) return undefined;
  const kind = (Object.keys(TIMER_PREFIXES) as TimerKind[]).find((k) => TIMER_PREFIXES[k] === match[1])!;
  return { kind, actionExecutionId: match[2]!, attempt: Number(match[3]) };
}

/**
 * The retry policy an action runs with. Without one of its own: an attempt whose agent was lost
 * runs again, up to 3 attempts, except a Deploy (it may have changed something before the agent
 * vanished: only an explicit policy retries it) and an approval (nothing runs).
 */
export function retryPolicyOf(declaration: ActionDeclaration): RetryPolicy {
  if (declaration.retryPolicy !== null) return declaration.retryPolicy;
  const category = declaration.actionTypeId.category;
  if (category === "Deploy" || category === "Approval") return { maxAttempts: 1, backoffSeconds: 0, on: [] };
  return { maxAttempts: 3, backoffSeconds: 0, on: ["AGENT_LOST"] };
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

/**
 * An agent took the job: Queued → InProgress, and its lease starts. Another agent that took a
 * duplicate of the job is told to drop it (Duplicate); an accept of an attempt that ended is
 * answered NotRunning (PROTOCOL.md section 7).
 */
export function markStarted(step: Step, at: AttemptLocation, agent: AgentRef, leaseSeconds?: number): void {
  const { attempt } = at;
  if (attempt.status !== "Queued") {
    if (attempt.agent?.id === agent.id) return;
    const reason = attempt.status === "InProgress" ? "Duplicate" : "NotRunning";
    return tellAgent(step, attempt.actionExecutionId, attempt.attempt, agent.id, reason);
  }
  attempt.status = "InProgress";
  attempt.agent = { id: agent.id, name: agent.name };
  attempt.startTime = step.now;
  if (leaseSeconds !== undefined) {
    attempt.leaseSeconds = leaseSeconds;
    effect(step, {
      type: "ScheduleTimer",
      timerKey: timerKey(attempt.actionExecutionId, attempt.attempt, "lease"),
      at: new Date(Date.parse(step.now) + leaseSeconds * 1000).toISOString(),
      agentId: agent.id,
    });
  }
  emitAction(step, at, "ACTION_STARTED");
}

/** A cancel for one agent only (never the durable subject the rightful holder also reads). */
export function tellAgent(
  step: Step,
  actionExecutionId: string,
  attempt: number,
  agentId: string,
  reason: "Duplicate" | "NotRunning",
): void {
  effect(step, { type: "Cancel", actionExecutionId, attempt, reason, agentId, durable: false });
}

/**
 * The agent's result for a Queued or InProgress attempt; anything else is ignored, and so is the
 * result of an agent other than the one holding the attempt (it took a duplicate).
 */
export function recordResult(step: Step, at: AttemptLocation, reported: ActionCompletedEvent): void {
  const { attempt, execution } = at;
  if (attempt.status !== "Queued" && attempt.status !== "InProgress") return;
  if (attempt.approvalPending) return; // decided by ApprovalResult only
  if (
    attempt.status === "InProgress" &&
    reported.agentId &&
    attempt.agent &&
    attempt.agent.id !== reported.agentId
  )
    return;
  const result = checkedResult(at, reported);
  attempt.summary = result.summary;
  attempt.errorDetails = result.errorDetails ?? null;
  attempt.externalUrl = result.externalUrl ?? null;
  if (result.testReport) attempt.testReport = { ...result.testReport };
  if (result.outcome === "Succeeded") {
    attempt.outputVariables = { ...(result.outputVariables ?? {}) };
    attempt.outputArtifacts = (result.outputArtifacts ?? []).map((artifact) => ({ ...artifact }));
    const namespace = actionDeclaration(execution, at.stageIndex, at.actionIndex).namespace;
    if (namespace !== null) setOwn(execution.outputVariables, namespace, { ...attempt.outputVariables });
    for (const artifact of attempt.outputArtifacts) setOwn(execution.artifacts, artifact.name, artifact);
  }
  if (result.outcome === "Failed") {
    attempt.failureType = result.failureType ?? "JobFailed";
    recordCause(attempt, result.cause ?? "Unknown");
  }
  endAttempt(step, at, result.outcome, result.outcome === "Succeeded" ? "ACTION_SUCCEEDED" : "ACTION_FAILED");
  if (result.outcome === "Failed") scheduleRetry(step, at);
}

/**
 * The lease of the agent running the attempt ran out: the agent is lost (killed, host gone, cut
 * off, or its token revoked). The attempt fails, the agent is told in case it comes back, and the
 * retry policy may start the next attempt elsewhere.
 */
export function loseAgent(step: Step, at: AttemptLocation, detail: string | null): void {
  const { attempt } = at;
  if (attempt.status !== "InProgress" || attempt.approvalPending) return;
  const name = attempt.agent?.name ?? "unknown";
  attempt.summary =
    detail ?? `Agent ${name} lost: no heartbeat for ${attempt.leaseSeconds ?? "its lease of"} s.`;
  attempt.errorDetails = { code: "AgentLost", message: attempt.summary };
  attempt.failureType = "SystemUnavailable";
  recordCause(attempt, "LeaseExpired");
  cancelJob(step, at, "AgentLost");
  endAttempt(step, at, "Failed", "ACTION_FAILED", { cancelTimer: true, leaseFired: true });
  scheduleRetry(step, at);
}

/** A failed attempt's cause, and the retry-policy condition its classification gives it. */
function recordCause(attempt: AttemptState, cause: FailureCause): void {
  attempt.cause = cause;
  attempt.failureCause = classifyFailure(cause).condition;
}

/**
 * After a failed attempt: when the action's retry policy covers the cause and allows another
 * attempt, start it now or after the backoff (the action counts as running meanwhile, so the
 * stage does not fail). A stopping execution starts nothing new.
 */
function scheduleRetry(step: Step, at: AttemptLocation): void {
  const { execution, attempt, action } = at;
  if (execution.status !== "InProgress") return;
  const policy = retryPolicyOf(actionDeclaration(execution, at.stageIndex, at.actionIndex));
  // Attempts recorded before causes have only their condition: retryable as they were then.
  const failure = attempt.cause
    ? classifyFailure(attempt.cause)
    : { retryable: true, condition: attempt.failureCause ?? "FAILED" };
  if (!failure.retryable || !policy.on.includes(failure.condition)) return;
  if (action.attempts.length >= policy.maxAttempts) return;
  if (policy.backoffSeconds === 0) return startAction(step, execution, at.stageIndex, at.actionIndex);
  action.retryAt = new Date(Date.parse(step.now) + policy.backoffSeconds * 1000).toISOString();
  effect(step, {
    type: "ScheduleTimer",
    timerKey: timerKey(attempt.actionExecutionId, attempt.attempt, "retry"),
    at: action.retryAt,
  });
  emit(step, execution, "ACTION_RETRY_SCHEDULED", {
    stageName: execution.stages[at.stageIndex]!.stageName,
    actionName: action.actionName,
    actionExecutionId: attempt.actionExecutionId,
    status: attempt.status,
  });
}

/** The backoff of a scheduled retry is over: the next attempt starts. */
export function startRetry(step: Step, at: AttemptLocation): void {
  if (!at.action.retryAt) return;
  at.action.retryAt = null;
  if (at.execution.status !== "InProgress") return;
  startAction(step, at.execution, at.stageIndex, at.actionIndex);
}

/** A scheduled retry that will not happen (the execution stops). */
export function dropRetry(step: Step, at: AttemptLocation): void {
  if (!at.action.retryAt) return;
  at.action.retryAt = null;
  effect(step, {
    type: "CancelTimer",
    timerKey: timerKey(at.attempt.actionExecutionId, at.attempt.attempt, "retry"),
  });
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
  attempt.failureType = "JobFailed";
  recordCause(attempt, "TimedOut");
  cancelJob(step, at, "TimedOut");
  endAttempt(step, at, "Failed", "ACTION_FAILED", { cancelTimer: false });
  scheduleRetry(step, at);
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
    agentId: at.attempt.agent?.id ?? null,
    durable: true,
  });
}

export function endAttempt(
  step: Step,
  at: AttemptLocation,
  status: Exclude<ActionStatus, "Queued" | "InProgress">,
  type: PipelineEventType,
  options: { cancelTimer: boolean; leaseFired?: boolean } = { cancelTimer: true },
): void {
  const { attempt } = at;
  const held = attempt.status === "InProgress" && !attempt.approvalPending && attempt.leaseSeconds;
  attempt.status = status;
  attempt.approvalPending = false;
  attempt.endTime = step.now;
  if (options.cancelTimer)
    effect(step, { type: "CancelTimer", timerKey: timerKey(attempt.actionExecutionId, attempt.attempt) });
  if (held && !options.leaseFired)
    effect(step, {
      type: "CancelTimer",
      timerKey: timerKey(attempt.actionExecutionId, attempt.attempt, "lease"),
    });
  emitAction(step, at, type);
}
