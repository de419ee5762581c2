/**
 * Applying pipeline events to the executions a page shows (see live.ts): the event carries the
 * changed state (the execution's, the stage's or the action attempt's new status, times, summary,
 * error, agent, small outputs), and these functions write it into the page's copy, whatever part
 * of an execution the page selected: only the fields the page has are written, in new objects.
 */

/** What a page's `apply` returns when an event carries too little to update it: the page is fetched again. */
export const REFETCH = Symbol("refetch");

/**
 * The part of a pipeline event that the live views read (PipelineEvent in schema.graphql): what
 * happened, to which execution at which sequence, and the changed state as the views show it.
 */
export interface LiveEvent {
  type: string;
  executionId?: string | null;
  sequence?: number | null;
  pipelineName?: string;
  stageName?: string | null;
  actionName?: string | null;
  actionExecutionId?: string | null;
  status?: string | null;
  at?: string;
  statusSummary?: string | null;
  startTime?: string | null;
  endTime?: string | null;
  attempt?: number | null;
  approvalPending?: boolean | null;
  summary?: string | null;
  errorDetails?: { code?: string; message: string } | null;
  agentName?: string | null;
  outputVariables?: Record<string, unknown> | null;
  outputArtifacts?: Array<{ name: string; size?: number; sha256?: string }> | null;
  /** APPROVAL_*: the decision; null when there is none; undefined from a server that does not send it. */
  approval?: { approved: boolean; summary: string; by: string; at: string } | null;
}

/** How a page applies its subscription's events to what it shows, instead of fetching it again. */
export interface LiveApply<Data, Event> {
  /** The pipeline event inside the subscription's payload. */
  event(payload: Event): LiveEvent;
  /**
   * The data after the event: a new object where something changed (never the old one changed),
   * the same data when the event changes nothing shown, or REFETCH when the event carries too
   * little (a new execution, a definition change): the page is then fetched again.
   */
  apply(data: Data, event: LiveEvent): Data | typeof REFETCH;
  /** The executions the data shows and the sequence each is at, to see a gap in their events. */
  sequences(data: Data): Iterable<readonly [string, number]>;
}

/**
 * `event` applied to `data` by `live`, with `last` the last sequence seen per execution the data
 * shows (updated): the data as it was when the event is one it already includes, REFETCH when it
 * skips a sequence (a change was missed) or when `live` says the event carries too little.
 */
export function applyEvent<Data, Event>(
  live: LiveApply<Data, Event>,
  data: Data,
  event: LiveEvent,
  last: Map<string, number>,
): Data | typeof REFETCH {
  const { executionId, sequence } = event;
  if (executionId && typeof sequence === "number") {
    const seen = last.get(executionId);
    if (seen !== undefined) {
      if (sequence <= seen) return data; // already in the data
      if (sequence > seen + 1) return REFETCH; // a gap: some change was missed
      last.set(executionId, sequence);
    }
  }
  return live.apply(data, event);
}

/** Statuses an execution does not leave by itself (server/src/graphql/execution-stream.ts). */
export const FINAL_STATUSES: ReadonlySet<string> = new Set([
  "Succeeded",
  "Failed",
  "Stopped",
  "Superseded",
  "Cancelled",
]);

type Loose = Record<string, unknown>;

/** `object` with `changes` written to the keys it has (a page's selection); the same object if nothing differs. */
function patch<T>(object: T, changes: Loose): T {
  const source = object as Loose;
  let copy: Loose | null = null;
  for (const [key, value] of Object.entries(changes)) {
    if (!(key in source) || value === undefined || same(source[key], value)) continue;
    copy ??= { ...source };
    copy[key] = value;
  }
  return (copy ?? object) as T;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** An execution event that ends it. */
export function isFinalEvent(event: LiveEvent): boolean {
  return (
    event.type.startsWith("EXECUTION_") &&
    event.type !== "EXECUTION_WAITING" &&
    FINAL_STATUSES.has(event.status ?? "")
  );
}

/**
 * An execution as the page selected it (any subset of PipelineExecution's fields) after `event`,
 * one of its own; REFETCH when the event carries too little for a field the page shows: a wait's
 * reason (EXECUTION_WAITING), output variables too large to travel.
 */
export function applyToExecution<T>(execution: T, event: LiveEvent): T | typeof REFETCH {
  const e = execution as Loose;
  const { type } = event;
  if (type === "EXECUTION_WAITING") {
    return "waitingReason" in e || "currentStage" in e ? REFETCH : execution;
  }
  if (type.startsWith("EXECUTION_")) {
    const final = isFinalEvent(event);
    return patch(execution, {
      status: event.status ?? undefined,
      statusSummary: event.statusSummary,
      endTime: event.endTime,
      ...(final ? { currentStage: null, waitingReason: null } : {}),
    });
  }
  if (!event.stageName || !Array.isArray(e.stages)) return execution;
  const stages = e.stages as Loose[];
  const index = stages.findIndex((s) => s.name === event.stageName);
  if (index < 0) return REFETCH;
  let stage = stages[index]!;
  let top: Loose = {};
  if (type.startsWith("STAGE_")) {
    stage = patch(stage, {
      status: event.status ?? undefined,
      startTime: event.startTime,
      endTime: event.endTime,
    });
    if (type === "STAGE_STARTED" || type === "STAGE_RESUMED") {
      top = { currentStage: { stageName: event.stageName, entered: true }, waitingReason: null };
    }
  } else if (type.startsWith("ACTION_") || type.startsWith("APPROVAL_")) {
    const next = applyToAction(stage, event);
    if (next === REFETCH) return REFETCH;
    stage = next;
  } else {
    return execution;
  }
  const withStages = stage === stages[index] ? execution : patchStages(execution, stages, index, stage);
  return patch(withStages, top);
}

function patchStages<T>(execution: T, stages: Loose[], index: number, stage: Loose): T {
  const copy = stages.slice();
  copy[index] = stage;
  return { ...(execution as Loose), stages: copy } as T;
}

function applyToAction(stage: Loose, event: LiveEvent): Loose | typeof REFETCH {
  if (!Array.isArray(stage.actions)) return stage;
  const actions = stage.actions as Loose[];
  const index = actions.findIndex((a) => a.name === event.actionName);
  if (index < 0) return REFETCH;
  const action = actions[index]!;
  const decided =
    event.type === "APPROVAL_APPROVED" ||
    event.type === "APPROVAL_REJECTED" ||
    event.type === "APPROVAL_TIMED_OUT";
  if (decided && "approval" in action && event.approval === undefined) return REFETCH; // an older server's event
  const succeeded = event.type === "ACTION_SUCCEEDED";
  if (succeeded && "outputVariables" in action && !event.outputVariables) return REFETCH; // too large to travel
  const changes: Loose = {
    id: event.actionExecutionId ?? undefined,
    status: event.status ?? undefined,
    startTime: event.startTime,
    endTime: event.endTime,
    summary: event.summary,
    approvalPending: event.approvalPending ?? undefined,
    attempt: event.attempt ?? undefined,
    errorDetails: event.errorDetails,
    approval: decided ? event.approval : undefined,
    agent:
      event.agentName === undefined ? undefined : event.agentName === null ? null : { name: event.agentName },
    // A new attempt has no outputs yet; a succeeded one brings its own.
    outputVariables: succeeded ? event.outputVariables : event.type === "ACTION_QUEUED" ? {} : undefined,
    // The server works out why a queued action waits when asked; once it runs, it waits no more.
    waitingReason: event.status !== "Queued" ? null : undefined,
  };
  const next = patch(action, changes);
  if (next === action) return stage;
  const copy = actions.slice();
  copy[index] = next;
  return { ...stage, actions: copy };
}

/** The artifacts list of an execution (name, size, sha256…) with an ACTION_SUCCEEDED event's outputs in it. */
export function withArtifacts<A extends { name: string }>(artifacts: A[], event: LiveEvent): A[] {
  const outputs = event.outputArtifacts;
  if (!outputs || outputs.length === 0) return artifacts;
  // By name, a later output replacing an earlier one in its place (as the execution records them).
  const byName = new Map(artifacts.map((a) => [a.name, a]));
  for (const output of outputs) {
    const shown = byName.get(output.name) as Loose | undefined;
    const keys = shown ? Object.keys(shown) : Object.keys(artifacts[0] ?? output);
    const picked = Object.fromEntries(keys.map((k) => [k, (output as Loose)[k] ?? shown?.[k]]));
    byName.set(output.name, picked as A);
  }
  return [...byName.values()];
}
