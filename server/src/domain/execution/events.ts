/**
 * One decision in the making (`Step`): the draft runtime it changes, the effects it collects, and
 * the executions it changed. Every change of an execution goes through `emit`, which gives the
 * event the execution's next sequence number, so "sequence grows by exactly one per event" and
 * "an execution changed iff it has an event in the decision" hold by construction.
 */
import type {
  DecideContext,
  Effect,
  ExecutionState,
  PipelineEvent,
  PipelineEventType,
  PipelineRuntime,
} from "./types";
import type { ActionStatus, ExecutionStatus, StageStatus } from "./types";

export interface Step {
  runtime: PipelineRuntime;
  now: string;
  newId: () => string;
  effects: Effect[];
  changed: Set<string>;
}

export function newStep(runtime: PipelineRuntime, ctx: DecideContext): Step {
  return { runtime, now: ctx.now, newId: () => ctx.newId(), effects: [], changed: new Set() };
}

export interface EventDetail {
  stageName?: string;
  actionName?: string;
  actionExecutionId?: string;
  status?: ExecutionStatus | StageStatus | ActionStatus;
}

/**
 * Output variables an ACTION_SUCCEEDED event carries at most (names and values as JSON, UTF-8
 * bytes); larger ones are left out.
 */
export const EVENT_OUTPUT_VARIABLES_BYTES = 4 * 1024;
/**
 * What the change an event carries may take at most (as JSON, UTF-8 bytes), so that the whole
 * event stays under the protocol's 16 KiB (MAX_MESSAGE_BYTES.pipelineEvent) with its names and ids.
 */
export const EVENT_CHANGE_BYTES = 12 * 1024;
/** Texts (summaries, an error's message) are cut to this many characters when a change is too large. */
const CUT_TEXT = 1000;
const utf8 = new TextEncoder();

/**
 * Records one change of `execution`: next sequence, last update time, an Event effect. The event
 * carries what changed as the views show it after the change (`changeOf`), so that subscribers
 * need not read the execution again.
 */
export function emit(step: Step, execution: ExecutionState, type: PipelineEventType, detail: EventDetail) {
  execution.sequence += 1;
  execution.lastUpdateTime = step.now;
  step.changed.add(execution.executionId);
  step.effects.push({
    type: "Event",
    event: {
      pipelineName: step.runtime.pipelineName,
      type,
      executionId: execution.executionId,
      sequence: execution.sequence,
      ...detail,
      at: step.now,
      ...withinBudget(changeOf(execution, type, detail)),
    },
  });
}

/** The state the event is about, after the change: copies, never references into the runtime. */
function changeOf(
  execution: ExecutionState,
  type: PipelineEventType,
  detail: EventDetail,
): Partial<PipelineEvent> {
  if (type.startsWith("EXECUTION_")) {
    return {
      statusSummary: execution.statusSummary,
      startTime: execution.startTime,
      endTime: execution.endTime,
    };
  }
  const stage = execution.stages.find((s) => s.stageName === detail.stageName);
  if (stage === undefined) return {};
  if (detail.actionExecutionId === undefined) {
    return { startTime: stage.startTime, endTime: stage.endTime };
  }
  const attempt = stage.actions
    .find((a) => a.actionName === detail.actionName)
    ?.attempts.find((a) => a.actionExecutionId === detail.actionExecutionId);
  if (attempt === undefined) return {};
  const change: Partial<PipelineEvent> = {
    attempt: attempt.attempt,
    approvalPending: attempt.approvalPending,
    summary: attempt.summary,
    errorDetails: attempt.errorDetails === null ? null : { ...attempt.errorDetails },
    agentName: attempt.agent?.name ?? null,
    startTime: attempt.startTime,
    endTime: attempt.endTime,
  };
  if (type.startsWith("APPROVAL_"))
    change.approval = attempt.approval === null ? null : { ...attempt.approval };
  if (type === "ACTION_SUCCEEDED") {
    change.outputArtifacts = attempt.outputArtifacts.map((artifact) => ({ ...artifact }));
    const outputs = JSON.stringify(attempt.outputVariables);
    if (utf8.encode(outputs).length <= EVENT_OUTPUT_VARIABLES_BYTES)
      change.outputVariables = JSON.parse(outputs);
  }
  return change;
}

/** An event of the pipeline that belongs to no execution (transitions): no execution id, no sequence. */
export function emitPipelineEvent(step: Step, type: PipelineEventType, stageName: string): void {
  step.effects.push({
    type: "Event",
    event: {
      pipelineName: step.runtime.pipelineName,
      type,
      executionId: null,
      sequence: null,
      stageName,
      at: step.now,
    },
  });
}

export function effect(step: Step, value: Effect): void {
  step.effects.push(value);
}

/**
 * `change` cut down to EVENT_CHANGE_BYTES: first without output variables (a view then reads
 * them), then without artifacts, then with its texts cut (a view shows the whole text when it
 * reads the execution). Rare: a summary is at most 2,048 characters, an error's message 5,000.
 */
function withinBudget(change: Partial<PipelineEvent>): Partial<PipelineEvent> {
  const size = () => utf8.encode(JSON.stringify(change)).length;
  if (size() <= EVENT_CHANGE_BYTES) return change;
  delete change.outputVariables;
  if (size() <= EVENT_CHANGE_BYTES) return change;
  delete change.outputArtifacts;
  if (size() <= EVENT_CHANGE_BYTES) return change;
  const cut = (text: string | null | undefined) => {
    if (!text || text.length <= CUT_TEXT) return text;
    const characters = [...text]; // by code point: no half of a pair
    return characters.length <= CUT_TEXT ? text : `${characters.slice(0, CUT_TEXT - 1).join("")}…`;
  };
  change.summary = cut(change.summary);
  change.statusSummary = cut(change.statusSummary);
  if (change.approval) change.approval = { ...change.approval, summary: cut(change.approval.summary)! };
  if (change.errorDetails)
    change.errorDetails = { ...change.errorDetails, message: cut(change.errorDetails.message)! };
  return change;
}
