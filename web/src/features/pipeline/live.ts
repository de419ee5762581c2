/**
 * The pipeline page's events applied to what it shows (components/live.ts): its recent executions
 * (components/live-apply.ts) and the stages' pointers to their latest execution and action runs.
 * A new execution, one starting to wait (the reason and the queues), a transition toggled (its
 * reason) and a new definition fetch the page again.
 */
import {
  applyToExecution,
  isFinalEvent,
  REFETCH,
  type LiveApply,
  type LiveEvent,
} from "@/components/live-apply";
import type { PipelineViewEventsSubscription, PipelineViewQuery } from "@/gql/graphql";

type Pipeline = NonNullable<PipelineViewQuery["pipeline"]>;
type StageState = Pipeline["state"]["stages"][number];

export const PIPELINE_LIVE: LiveApply<PipelineViewQuery, PipelineViewEventsSubscription> = {
  event: (payload) => payload.pipelineEvents,
  sequences: (data) => (data.pipeline?.executions.nodes ?? []).map((e) => [e.id, e.sequence] as const),
  apply: (data, event) => {
    const pipeline = data.pipeline;
    if (!pipeline || event.pipelineName !== pipeline.name) return data;
    if (!event.executionId)
      return event.type.startsWith("PIPELINE_") || event.type.startsWith("TRANSITION_") ? REFETCH : data;
    if (event.type === "EXECUTION_WAITING") return REFETCH;
    const nodes = pipeline.executions.nodes;
    const index = nodes.findIndex((e) => e.id === event.executionId);
    let executions = pipeline.executions;
    if (index < 0) {
      // A new execution: its trigger and revisions are not in the event.
      if (event.type === "EXECUTION_STARTED") return REFETCH;
    } else {
      const next = applyToExecution(nodes[index]!, event);
      if (next === REFETCH) return REFETCH;
      if (next !== nodes[index]) {
        const copy = nodes.slice();
        copy[index] = { ...next, sequence: event.sequence ?? next.sequence };
        executions = { ...executions, nodes: copy };
      } else if (typeof event.sequence === "number") {
        const copy = nodes.slice();
        copy[index] = { ...next, sequence: event.sequence };
        executions = { ...executions, nodes: copy };
      }
    }
    const stages = pipeline.state.stages.map((stage) => applyToStage(stage, event));
    const state = stages.every((s, i) => s === pipeline.state.stages[i])
      ? pipeline.state
      : { ...pipeline.state, stages };
    if (executions === pipeline.executions && state === pipeline.state) return data;
    return { ...data, pipeline: { ...pipeline, executions, state } };
  },
};

/** A stage's pointers (latest execution, waiting queue, latest action runs) after an event of `event.executionId`. */
function applyToStage(stage: StageState, event: LiveEvent): StageState {
  const id = event.executionId!;
  let next = stage;
  const entered = event.type === "STAGE_STARTED" || event.type === "STAGE_RESUMED";
  // Entering a stage or ending: the execution waits nowhere any more.
  if ((entered || isFinalEvent(event)) && next.waitingExecutions.some((w) => w.executionId === id)) {
    next = { ...next, waitingExecutions: next.waitingExecutions.filter((w) => w.executionId !== id) };
  }
  if (event.stageName !== stage.name) return next;
  if (event.type.startsWith("STAGE_") && event.status) {
    const latest = next.latestExecution;
    if (entered || latest?.executionId === id) {
      if (latest?.executionId !== id || latest.status !== event.status)
        next = { ...next, latestExecution: { ...latest, executionId: id, status: event.status as never } };
    }
  }
  if ((event.type.startsWith("ACTION_") || event.type.startsWith("APPROVAL_")) && event.actionExecutionId) {
    const actions = next.actions.map((action) => {
      if (action.name !== event.actionName) return action;
      const latest = action.latestExecution;
      const startsAttempt = event.type === "ACTION_QUEUED" || event.type === "APPROVAL_NEEDED";
      if (!(latest === null || latest === undefined || latest.executionId === id || startsAttempt))
        return action;
      return {
        ...action,
        latestExecution: {
          ...latest,
          actionExecutionId: event.actionExecutionId!,
          executionId: id,
          status: (event.status ?? latest?.status) as never,
          lastStatusChange: event.at ?? latest?.lastStatusChange ?? "",
          approvalPending: event.approvalPending ?? latest?.approvalPending ?? false,
          summary: event.summary === undefined ? (latest?.summary ?? null) : event.summary,
          errorDetails:
            event.errorDetails === undefined
              ? (latest?.errorDetails ?? null)
              : event.errorDetails && {
                  code: event.errorDetails.code ?? "",
                  message: event.errorDetails.message,
                },
        },
      };
    });
    next = { ...next, actions };
  }
  return next;
}
