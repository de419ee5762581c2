/**
 * One decision in the making (`Step`): the draft runtime it changes, the effects it collects, and
 * the executions it changed. Every change of an execution goes through `emit`, which gives the
 * event the execution's next sequence number, so "sequence grows by exactly one per event" and
 * "an execution changed iff it has an event in the decision" hold by construction.
 */
import type { DecideContext, Effect, ExecutionState, PipelineEventType, PipelineRuntime } from "./types";
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

/** Records one change of `execution`: next sequence, last update time, an Event effect. */
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
    },
  });
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
