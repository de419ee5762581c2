/**
 * decide(runtime, event, ctx) → { runtime, effects, changedExecutions }: the whole state machine
 * as one pure function. The input runtime is never changed; time and ids come from ctx. A domain
 * error (BAD_USER_INPUT, CONFLICT, NOT_FOUND) is thrown before anything is decided. An event that
 * changes nothing (a duplicate or late result, a timer of an attempt that already ended) gives the
 * same runtime back with no effects.
 */
import {
  loseAgent,
  markStarted,
  parseTimerKey,
  recordResult,
  startRetry,
  tellAgent,
  timeOut,
} from "./actions";
import { decideApproval } from "./approvals";
import { newStep, type Step } from "./events";
import { settle } from "./settle";
import { startExecution } from "./start";
import { copyRuntime } from "./stored";
import { findCurrentAttempt, isFinal, isRunning } from "./state";
import { retryStage, stopExecution } from "./stop-retry";
import { toggleTransition } from "./transitions";
import type { DecideContext, Decision, Effect, PipelineRuntime, RuntimeEvent } from "./types";

export function decide(runtime: PipelineRuntime, event: RuntimeEvent, ctx: DecideContext): Decision {
  const step = newStep(copyRuntime(runtime), ctx);
  apply(step, event);
  if (step.effects.length === 0) return { runtime, effects: [], changedExecutions: [] };
  settle(step);
  forgetFinishedExecutions(step);
  return { runtime: step.runtime, effects: step.effects, changedExecutions: [...step.changed] };
}

/**
 * Events decided one after the other (the engine's group commit of results that arrived together):
 * the decisions that changed something, each made on the runtime the one before it left. The engine
 * writes them together (mergeDecisions); an event that changes nothing gives no decision.
 */
export function decideInTurn(
  runtime: PipelineRuntime,
  events: readonly RuntimeEvent[],
  ctx: DecideContext,
): Decision[] {
  const decisions: Decision[] = [];
  let current = runtime;
  for (const event of events) {
    const decision = decide(current, event, ctx);
    if (decision.runtime === current) continue;
    decisions.push(decision);
    current = decision.runtime;
  }
  return decisions;
}

/**
 * Decisions made in turn (decideInTurn), as one to store: the last runtime, every effect in order,
 * the executions any of them changed (in the order of their first change), and where to read each
 * one's view. An execution that one decision finished may be let go of by a later one (no longer
 * in the last runtime): its view is read from the last runtime that held it, so that what it ended
 * as is stored, as deciding and storing each decision in turn would have stored it.
 */
export function mergeDecisions(
  decisions: readonly Decision[],
): Decision & { viewedIn: Map<string, PipelineRuntime> } {
  const last = decisions[decisions.length - 1]!;
  const viewedIn = new Map<string, PipelineRuntime>();
  const effects: Effect[] = [];
  const changed = new Set<string>(); // in the order of their first change
  for (const decision of decisions) {
    effects.push(...decision.effects);
    for (const id of decision.changedExecutions) {
      changed.add(id);
      viewedIn.set(id, decision.runtime);
    }
  }
  return { runtime: last.runtime, effects, changedExecutions: [...changed], viewedIn };
}

function apply(step: Step, event: RuntimeEvent): void {
  switch (event.type) {
    case "StartExecution":
      return startExecution(step, event);
    case "ActionStarted": {
      const at = findCurrentAttempt(step.runtime, event.actionExecutionId);
      if (at?.attempt.attempt === event.attempt) markStarted(step, at, event.agent, event.leaseSeconds);
      else tellAgent(step, event.actionExecutionId, event.attempt, event.agent.id, "NotRunning");
      return;
    }
    case "ActionCompleted": {
      const at = findCurrentAttempt(step.runtime, event.actionExecutionId);
      if (at?.attempt.attempt === event.attempt) recordResult(step, at, event);
      return;
    }
    case "ApprovalResult":
      return decideApproval(step, event);
    case "ToggleTransition":
      return toggleTransition(step, event);
    case "StopExecution":
      return stopExecution(step, event);
    case "RetryStage":
      return retryStage(step, event);
    case "TimerFired": {
      const key = parseTimerKey(event.timerKey);
      const at = key && findCurrentAttempt(step.runtime, key.actionExecutionId);
      if (!at || at.attempt.attempt !== key!.attempt || !isRunning(at.action)) return;
      if (key!.kind === "timeout") timeOut(step, at);
      else if (key!.kind === "lease") loseAgent(step, at, event.detail ?? null);
      else startRetry(step, at);
      return;
    }
  }
}

/**
 * A final execution stays in the runtime while a stage points at it (latest execution, latest
 * action execution: retry and the pipeline state need it) and through the decision that finished
 * it (so executionView works on every changed execution); after that the engine's copy is the
 * only one.
 */
function forgetFinishedExecutions(step: Step): void {
  const needed = new Set(step.changed);
  for (const stage of Object.values(step.runtime.stages)) {
    if (stage.latest) needed.add(stage.latest.executionId);
    for (const pointer of Object.values(stage.latestActions)) needed.add(pointer.executionId);
  }
  for (const [executionId, execution] of Object.entries(step.runtime.executions)) {
    if (isFinal(execution.status) && !needed.has(executionId)) delete step.runtime.executions[executionId];
  }
}
