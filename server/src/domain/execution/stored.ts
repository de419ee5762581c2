/**
 * How a pipeline's runtime is stored: split in two, each part with a schema version and read
 * through a codec.
 *
 * - The **coordination record** (`pipeline_runtimes.state`): what the pipeline's executions share —
 *   transitions, stage locks and queues, the latest pointers, the next start order. Small, and
 *   read (locked) by every event.
 * - One **execution record** per execution the runtime holds (`pipeline_executions.runtime`): its
 *   `ExecutionState` without the pipeline document it pinned. The document is referenced by the
 *   execution's `pipelineVersion` and read from the pipeline's versions, never copied.
 *
 * A decision rewrites the coordination record and the records of the executions it changed, not
 * the whole runtime. Records written by an older version of the engine are upcast on read:
 * version 1 is the single JSON value every runtime was before (the coordination fields plus every
 * execution with its document inside).
 */
import { z } from "zod";
import type { PipelineDocument } from "../pipeline/document";
import type { Decision, ExecutionState, PipelineRuntime } from "./types";

export const RUNTIME_SCHEMA_VERSION = 2;

/** `pipeline_runtimes.state`: a pipeline runtime without its executions. */
export type StoredCoordination = Omit<PipelineRuntime, "executions"> & { schemaVersion: 2 };

/** `pipeline_executions.runtime`: one execution's state without its document. */
export type StoredExecution = Omit<ExecutionState, "document"> & { schemaVersion: 2 };

// The codecs check the shape the engine relies on and keep every other field as it is (loose
// objects): a field added by a later minor change survives a read by this version.
const isoTime = z.string();
const nullableTime = isoTime.nullable();
const stringMap = z.record(z.string(), z.string());

const transitionSchema = z.looseObject({
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  disabledBy: z.string().nullable(),
  disabledAt: nullableTime,
  lastChangedBy: z.string(),
  lastChangedAt: isoTime,
});

const stageRuntimeSchema = z.looseObject({
  inside: z.array(z.string()),
  waiting: z.array(z.string()),
  latest: z.looseObject({ executionId: z.string(), status: z.string() }).nullable(),
  lastSucceeded: z.looseObject({ executionId: z.string() }).nullable(),
  latestActions: z.record(
    z.string(),
    z.looseObject({ executionId: z.string(), actionExecutionId: z.string() }),
  ),
});

const coordinationSchema = z.looseObject({
  schemaVersion: z.literal(RUNTIME_SCHEMA_VERSION),
  pipelineName: z.string(),
  nextStartOrder: z.number().int().positive(),
  transitions: z.record(z.string(), transitionSchema),
  stages: z.record(z.string(), stageRuntimeSchema),
});

const artifactSchema = z.looseObject({
  name: z.string(),
  objectKey: z.string(),
  size: z.number(),
  sha256: z.string(),
});

const attemptSchema = z.looseObject({
  actionExecutionId: z.string(),
  attempt: z.number().int().positive(),
  status: z.enum(["Queued", "InProgress", "Succeeded", "Failed", "Abandoned"]),
  approvalPending: z.boolean(),
  queuedAt: isoTime,
  startTime: nullableTime,
  endTime: nullableTime,
  lastUpdateTime: isoTime,
  timeoutInMinutes: z.number(),
  resolvedConfiguration: stringMap,
  inputArtifacts: z.array(artifactSchema),
  outputArtifacts: z.array(artifactSchema),
  outputVariables: stringMap,
});

const stageExecutionSchema = z.looseObject({
  stageName: z.string(),
  status: z.string().nullable(),
  startTime: nullableTime,
  runStartTime: nullableTime,
  endTime: nullableTime,
  actions: z.array(
    z.looseObject({ actionName: z.string(), attempts: z.array(attemptSchema), pending: z.boolean() }),
  ),
});

const executionSchema = z.looseObject({
  schemaVersion: z.literal(RUNTIME_SCHEMA_VERSION),
  executionId: z.string(),
  startOrder: z.number().int().positive(),
  status: z.enum(["InProgress", "Stopping", "Stopped", "Succeeded", "Superseded", "Failed", "Cancelled"]),
  pipelineVersion: z.number().int().positive(),
  trigger: z.looseObject({ triggerType: z.string(), triggerDetail: z.string().nullable() }),
  sourceRevisions: z.array(z.looseObject({ actionName: z.string(), revisionId: z.string() })),
  variables: stringMap,
  startTime: isoTime,
  lastUpdateTime: isoTime,
  endTime: nullableTime,
  sequence: z.number().int().nonnegative(),
  current: z.looseObject({ stageIndex: z.number().int().nonnegative(), entered: z.boolean() }).nullable(),
  stages: z.array(stageExecutionSchema),
  outputVariables: z.record(z.string(), stringMap),
  artifacts: z.record(z.string(), artifactSchema),
});

/** A stored record that does not have the shape this version of the engine reads. */
export class StoredRuntimeError extends Error {
  constructor(what: string, detail: string) {
    super(`The stored ${what} cannot be read: ${detail}`);
    this.name = "StoredRuntimeError";
  }
}

function decodeWith<T>(schema: z.ZodType, what: string, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new StoredRuntimeError(what, `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data as T;
}

/** Version 1: the whole runtime in one value, each execution with its document. */
function isVersion1(raw: unknown): raw is PipelineRuntime {
  return typeof raw === "object" && raw !== null && !("schemaVersion" in raw) && "executions" in raw;
}

/**
 * Reads a coordination record. A version 1 runtime (which still holds its executions) is upcast;
 * its executions are dropped here — `splitRuntime` is what moves them to their own records.
 */
export function decodeCoordination(raw: unknown): StoredCoordination {
  if (isVersion1(raw)) return splitRuntime(raw).coordination;
  return decodeWith<StoredCoordination>(coordinationSchema, "pipeline coordination record", raw);
}

/** Reads an execution record; a version 1 execution (with its document) is upcast. */
export function decodeExecution(raw: unknown): StoredExecution {
  if (typeof raw === "object" && raw !== null && !("schemaVersion" in raw)) {
    const { document: _document, ...rest } = raw as ExecutionState;
    return decodeWith<StoredExecution>(executionSchema, "execution record", {
      ...rest,
      schemaVersion: RUNTIME_SCHEMA_VERSION,
    });
  }
  return decodeWith<StoredExecution>(executionSchema, "execution record", raw);
}

/** The stored form of one execution: everything but the document it pinned. */
export function storedExecution(execution: ExecutionState): StoredExecution {
  const { document: _document, ...rest } = execution;
  return { schemaVersion: RUNTIME_SCHEMA_VERSION, ...rest };
}

/** The stored form of a runtime's shared part. */
export function storedCoordination(runtime: PipelineRuntime): StoredCoordination {
  return {
    schemaVersion: RUNTIME_SCHEMA_VERSION,
    pipelineName: runtime.pipelineName,
    nextStartOrder: runtime.nextStartOrder,
    transitions: runtime.transitions,
    stages: runtime.stages,
  };
}

/** A whole runtime (of any version) as its stored parts. */
export function splitRuntime(runtime: PipelineRuntime): {
  coordination: StoredCoordination;
  executions: StoredExecution[];
} {
  return {
    coordination: storedCoordination(runtime),
    executions: Object.values(runtime.executions).map((e) => decodeExecution(storedExecution(e))),
  };
}

/** The runtime the state machine works on, from its stored parts and the documents they pinned. */
export function joinRuntime(
  coordination: StoredCoordination,
  executions: StoredExecution[],
  documentOf: (pipelineVersion: number) => PipelineDocument,
): PipelineRuntime {
  const byId: Record<string, ExecutionState> = {};
  for (const { schemaVersion: _version, ...execution } of [...executions].sort(
    (a, b) => a.startOrder - b.startOrder,
  ))
    byId[execution.executionId] = { ...execution, document: documentOf(execution.pipelineVersion) };
  const { schemaVersion: _version, ...shared } = coordination;
  return { ...shared, executions: byId };
}

/**
 * What a decision makes the engine write: the coordination record, the records of the executions
 * it changed (nothing else of an execution changes without it being in `changedExecutions`; the
 * property tests store only these and read the runtime back after every decision), and the
 * executions the runtime let go of (final, nothing points at them any more), whose records are
 * cleared.
 */
export function runtimeChanges(
  before: PipelineRuntime,
  decision: Decision,
): { coordination: StoredCoordination; records: Map<string, StoredExecution>; forgotten: string[] } {
  const after = decision.runtime;
  const records = new Map<string, StoredExecution>();
  for (const id of decision.changedExecutions) {
    const execution = after.executions[id];
    if (execution) records.set(id, storedExecution(execution));
  }
  return {
    coordination: storedCoordination(after),
    records,
    forgotten: Object.keys(before.executions).filter((id) => after.executions[id] === undefined),
  };
}

/**
 * A copy of the runtime the state machine may change freely, sharing the pinned documents (which
 * nothing changes) instead of copying them: `decide` copies the runtime on every event.
 */
export function copyRuntime(runtime: PipelineRuntime): PipelineRuntime {
  const documents = new Map<string, PipelineDocument>();
  const bare: Record<string, Omit<ExecutionState, "document">> = {};
  for (const [id, execution] of Object.entries(runtime.executions)) {
    const { document, ...rest } = execution;
    documents.set(id, document);
    bare[id] = rest;
  }
  const copy = structuredClone({ ...runtime, executions: bare }) as unknown as PipelineRuntime;
  for (const [id, execution] of Object.entries(copy.executions))
    (execution as ExecutionState).document = documents.get(id)!;
  return copy;
}
