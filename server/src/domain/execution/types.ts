/**
 * The execution state machine's data: the per-pipeline runtime (state), the events it decides on,
 * the effects it asks the engine to carry out, and the views it shows. Everything here is plain
 * JSON (no undefined in state, no Dates, no classes): the runtime is stored as jsonb, one row per
 * pipeline, and `JSON.parse(JSON.stringify(runtime))` is the same runtime.
 *
 * Semantics: shared/PIPELINE-MODEL.md ("Statuses", "How revisions flow") and ARCHITECTURE.md
 * ("The execution state machine").
 */
import type { ActionTypeId, ExecutionMode, PipelineDocument, RetryCondition } from "../pipeline/document";
import type { FailureCause } from "./failures";

// ── Statuses (PIPELINE-MODEL.md, "Statuses") ─────────────────────────────────────────────────────

export type ExecutionStatus =
  "InProgress" | "Stopping" | "Stopped" | "Succeeded" | "Superseded" | "Failed" | "Cancelled";
export type StageStatus =
  "InProgress" | "Stopping" | "Stopped" | "Succeeded" | "Failed" | "Cancelled" | "Skipped";
/** Sluice adds Queued (dispatched, no agent took it yet); a waiting approval is InProgress + approvalPending. */
export type ActionStatus = "Queued" | "InProgress" | "Succeeded" | "Failed" | "Abandoned";

export const FINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "Stopped",
  "Succeeded",
  "Superseded",
  "Failed",
  "Cancelled",
];

export const TRIGGER_TYPES = [
  "CreatePipeline",
  "StartPipelineExecution",
  "PollForSourceChanges",
  "Webhook",
  "Schedule",
  "Upload",
  "ManualRollback",
  "AutomatedRollback",
] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

// ── Shared value shapes ──────────────────────────────────────────────────────────────────────────

export interface Trigger {
  triggerType: TriggerType;
  triggerDetail: string | null;
}

export interface SourceRevision {
  actionName: string;
  revisionId: string;
  revisionSummary: string | null;
  revisionUrl: string | null;
}

/** Where an artifact an action produced lives in the object store. */
export interface ArtifactLocation {
  name: string;
  objectKey: string;
  size: number;
  sha256: string;
}

/** Output variables by namespace: `{ SourceVariables: { CommitId: "abc" } }`. */
export type NamespacedVariables = Record<string, Record<string, string>>;

export interface AgentRef {
  id: string;
  name: string;
}

export interface ErrorDetails {
  code: string;
  message: string;
}

export type WaitingCode = "TRANSITION_DISABLED" | "STAGE_BUSY" | "QUEUED" | "NO_AGENT" | "RUN_ORDER";

/** Why an execution (at a stage's entry) or an action (not yet running) does not move. */
export interface WaitingReason {
  code: WaitingCode;
  /** A sentence a person understands. */
  message: string;
  /** ISO time since when this exact reason holds. */
  since: string;
  blockedBy: {
    /** STAGE_BUSY: the execution holding the stage; QUEUED: the execution just ahead in line. */
    executionId?: string;
    /** STAGE_BUSY / RUN_ORDER: what blocks waits for a manual approval. */
    approvalPending?: boolean;
    disabledBy?: string;
    disabledReason?: string;
    /** QUEUED mode: the place in line at the stage's entry, 1 = next to enter. */
    position?: number;
  };
}

// ── State: the per-pipeline runtime ──────────────────────────────────────────────────────────────

/** The inbound transition of a stage; a stage without an entry here is enabled and never changed. */
export interface TransitionState {
  enabled: boolean;
  disabledReason: string | null;
  disabledBy: string | null;
  disabledAt: string | null;
  lastChangedBy: string;
  lastChangedAt: string;
}

/** What the pipeline knows about one stage, across executions. Keyed by stage name. */
export interface StageRuntime {
  /** Executions inside the stage, in entry order. SUPERSEDED/QUEUED: at most one (the lock). */
  inside: string[];
  /** Executions waiting at the stage's entry, in arrival order (QUEUED: the line, FIFO). */
  waiting: string[];
  /** The execution that entered the stage last, and its status in the stage. */
  latest: { executionId: string; status: StageStatus } | null;
  /** The last execution that succeeded in this stage (rollback's source). */
  lastSucceeded: { executionId: string } | null;
  /** Per action name: the last action execution started for it, in any execution. */
  latestActions: Record<string, { executionId: string; actionExecutionId: string }>;
}

/** One run of an action. Each attempt has its own actionExecutionId (see README.md). */
export interface AttemptState {
  actionExecutionId: string;
  /** 1 for the first run of the action in its execution, +1 per retry. */
  attempt: number;
  status: ActionStatus;
  approvalPending: boolean;
  summary: string | null;
  errorDetails: ErrorDetails | null;
  externalUrl: string | null;
  agent: AgentRef | null;
  /** Dispatched (or, for an approval, put up for approval). */
  queuedAt: string;
  /** An agent took it (approvals: queuedAt). */
  startTime: string | null;
  endTime: string | null;
  lastUpdateTime: string;
  timeoutInMinutes: number;
  resolvedConfiguration: Record<string, string>;
  inputArtifacts: ArtifactLocation[];
  outputArtifacts: ArtifactLocation[];
  outputVariables: Record<string, string>;
  approval: { approved: boolean; summary: string; by: string; at: string } | null;
  /** Failed attempts: why, as a retry policy names it. Absent in runtimes stored before retries. */
  failureCause?: RetryCondition | null;
  /**
   * Failed attempts: why, as the agent or the server found it (failures.ts); its classification
   * gives failureCause. Absent in runtimes stored before causes.
   */
  cause?: FailureCause | null;
  /** The protocol's failureType of a failed attempt (JobFailed, SystemUnavailable, …). */
  failureType?: string | null;
  /** Test actions: the counts of the reports the agent read. */
  testReport?: TestReport | null;
  /** Seconds without a heartbeat after which the agent holding the attempt counts as lost. */
  leaseSeconds?: number | null;
}

export interface TestReport {
  passed: number;
  failed: number;
  skipped: number;
}

export interface ActionState {
  actionName: string;
  /** Oldest first; the last one is the action's current state unless `pending`. */
  attempts: AttemptState[];
  /** Not started in the stage's current run: never reached, or reset by a retry. */
  pending: boolean;
  /** Its retry policy starts the next attempt at this time (the action counts as running meanwhile). */
  retryAt?: string | null;
}

export interface StageExecutionState {
  stageName: string;
  /** null: the execution has not entered the stage. */
  status: StageStatus | null;
  startTime: string | null;
  /** When the stage's current run began (entry or retry): since when its actions wait. */
  runStartTime: string | null;
  endTime: string | null;
  actions: ActionState[];
}

export interface StopRequest {
  abandon: boolean;
  reason: string;
  by: string;
  at: string;
}

export interface ExecutionState {
  executionId: string;
  /** Start order in the pipeline: "newer" means a higher startOrder. */
  startOrder: number;
  status: ExecutionStatus;
  statusSummary: string | null;
  /** The document the execution started with; later edits of the pipeline do not change it. */
  document: PipelineDocument;
  pipelineVersion: number;
  trigger: Trigger;
  sourceRevisions: SourceRevision[];
  /** Pipeline variables: declared defaults with the start's overrides. */
  variables: Record<string, string>;
  rollback: { stageName: string; fromExecutionId: string } | null;
  startTime: string;
  lastUpdateTime: string;
  endTime: string | null;
  /** Grows by exactly one per event of this execution. */
  sequence: number;
  stop: StopRequest | null;
  /** The stage the execution waits in front of or works in; null once final. */
  current: { stageIndex: number; entered: boolean } | null;
  /** Set while waiting at a stage's entry. */
  waitingReason: WaitingReason | null;
  stages: StageExecutionState[];
  outputVariables: NamespacedVariables;
  /** Output artifacts recorded so far, by artifact name. */
  artifacts: Record<string, ArtifactLocation>;
}

export interface PipelineRuntime {
  pipelineName: string;
  /** The startOrder the next execution gets. */
  nextStartOrder: number;
  transitions: Record<string, TransitionState>;
  stages: Record<string, StageRuntime>;
  /**
   * Every execution not final, and finished ones still needed: pointed at by a stage (latest,
   * latestActions) or changed by the last decision (so executionView works on every id of its
   * changedExecutions). The engine keeps its own copy of every execution.
   */
  executions: Record<string, ExecutionState>;
}

// ── Events ───────────────────────────────────────────────────────────────────────────────────────

export interface StartExecutionEvent {
  type: "StartExecution";
  executionId: string;
  document: PipelineDocument;
  pipelineVersion: number;
  trigger: Trigger;
  sourceRevisions: SourceRevision[];
  /** Overrides of declared pipeline variables. */
  variables: Record<string, string>;
  /** A rollback runs only `stageName`, with the artifacts and output variables of an earlier execution. */
  rollback?: {
    stageName: string;
    fromExecutionId: string;
    artifacts: ArtifactLocation[];
    variables: NamespacedVariables;
  } | null;
}

export interface ActionStartedEvent {
  type: "ActionStarted";
  actionExecutionId: string;
  attempt: number;
  agent: AgentRef;
  /** The agent's lease: it counts as lost after this long without a heartbeat. Absent: no lease. */
  leaseSeconds?: number;
}

export interface ActionCompletedEvent {
  type: "ActionCompleted";
  actionExecutionId: string;
  attempt: number;
  outcome: "Succeeded" | "Failed";
  summary: string | null;
  errorDetails?: ErrorDetails | null;
  externalUrl?: string | null;
  outputVariables?: Record<string, string> | null;
  outputArtifacts?: ArtifactLocation[] | null;
  /** The protocol's failureType (Failed only). */
  failureType?: string | null;
  /** Why it failed (the complete's failureCause, or the server's own finding); Unknown when absent. */
  cause?: FailureCause | null;
  testReport?: TestReport | null;
  /** The agent that sent the result: only the agent holding the attempt (or, while Queued, any) counts. */
  agentId?: string | null;
}

export interface ApprovalResultEvent {
  type: "ApprovalResult";
  actionExecutionId: string;
  approved: boolean;
  summary: string;
  by: string;
}

export interface ToggleTransitionEvent {
  type: "ToggleTransition";
  /** The pipeline's current document: which stages exist and which is first. */
  document: PipelineDocument;
  stageName: string;
  enabled: boolean;
  reason?: string | null;
  by: string;
}

export interface StopExecutionEvent {
  type: "StopExecution";
  executionId: string;
  abandon: boolean;
  reason: string;
  by: string;
}

export type RetryMode = "FAILED_ACTIONS" | "ALL_ACTIONS";

export interface RetryStageEvent {
  type: "RetryStage";
  executionId: string;
  stageName: string;
  mode: RetryMode;
  by: string;
}

export interface TimerFiredEvent {
  type: "TimerFired";
  timerKey: string;
  /** Lease timers: why the agent counts as lost when it is not just silence (a revoked token). */
  detail?: string | null;
}

export type RuntimeEvent =
  | StartExecutionEvent
  | ActionStartedEvent
  | ActionCompletedEvent
  | ApprovalResultEvent
  | ToggleTransitionEvent
  | StopExecutionEvent
  | RetryStageEvent
  | TimerFiredEvent;

// ── Effects ──────────────────────────────────────────────────────────────────────────────────────

export interface DispatchEffect {
  type: "Dispatch";
  actionExecutionId: string;
  attempt: number;
  executionId: string;
  pipelineName: string;
  stageName: string;
  actionName: string;
  actionTypeId: ActionTypeId;
  runOrder: number;
  /** Every `#{...}` reference resolved. */
  configuration: Record<string, string>;
  inputArtifacts: ArtifactLocation[];
  outputArtifacts: { name: string }[];
  /** The agent pool; null is the default pool. */
  region: string | null;
  timeoutInMinutes: number;
  /** Source actions: the revision this execution builds. */
  sourceRevision: SourceRevision | null;
}

export interface CancelEffect {
  type: "Cancel";
  actionExecutionId: string;
  attempt: number;
  reason: string;
  /** The agent holding the attempt, told at once on its own subject; null when none took it yet. */
  agentId: string | null;
  /**
   * false: tell only `agentId` (Duplicate, NotRunning), never the durable cancel subject, which
   * the agent rightfully holding the attempt reads too.
   */
  durable: boolean;
}

export interface ScheduleTimerEffect {
  type: "ScheduleTimer";
  timerKey: string;
  at: string;
  /** Lease timers: the agent holding the lease. */
  agentId?: string;
}

export interface CancelTimerEffect {
  type: "CancelTimer";
  timerKey: string;
}

export const PIPELINE_EVENT_TYPES = [
  "EXECUTION_STARTED",
  "EXECUTION_WAITING",
  "EXECUTION_RESUMED",
  "EXECUTION_SUCCEEDED",
  "EXECUTION_FAILED",
  "EXECUTION_STOPPING",
  "EXECUTION_STOPPED",
  "EXECUTION_SUPERSEDED",
  "EXECUTION_CANCELLED",
  "STAGE_STARTED",
  "STAGE_RESUMED",
  "STAGE_SUCCEEDED",
  "STAGE_FAILED",
  "STAGE_STOPPING",
  "STAGE_STOPPED",
  "STAGE_CANCELLED",
  "STAGE_SKIPPED",
  "ACTION_QUEUED",
  "ACTION_STARTED",
  "ACTION_SUCCEEDED",
  "ACTION_FAILED",
  "ACTION_ABANDONED",
  "ACTION_RETRY_SCHEDULED",
  "APPROVAL_NEEDED",
  "APPROVAL_APPROVED",
  "APPROVAL_REJECTED",
  "APPROVAL_TIMED_OUT",
  "TRANSITION_DISABLED",
  "TRANSITION_ENABLED",
  "PIPELINE_CREATED",
  "PIPELINE_UPDATED",
  "PIPELINE_DELETED",
] as const;
export type PipelineEventType = (typeof PIPELINE_EVENT_TYPES)[number];

/**
 * One change, for subscribers and the execution's event history. Events of an execution carry its
 * next sequence number; transition events belong to no execution: executionId and sequence null.
 */
export interface PipelineEvent {
  pipelineName: string;
  /**
   * The pipeline's account; absent: the default account. The state machine leaves it out; the
   * engine adds it as it writes the event (subscribers and notifications filter on it).
   */
  account?: string;
  type: PipelineEventType;
  executionId: string | null;
  sequence: number | null;
  stageName?: string;
  actionName?: string;
  actionExecutionId?: string;
  /** The new status of what the event is about (execution, stage or action). */
  status?: ExecutionStatus | StageStatus | ActionStatus;
  /** Definition events (PIPELINE_*): the pipeline's version now, and who changed it. */
  pipelineVersion?: number;
  by?: string;
  at: string;
  /**
   * What changed, as the execution's views show it after the change (events.ts `emit`), so that a
   * live view updates from the event alone. Execution events: its summary and times; stage
   * events: the stage's times; action and approval events: the attempt's fields below. Absent in
   * events stored before they were carried.
   */
  statusSummary?: string | null;
  startTime?: string | null;
  endTime?: string | null;
  attempt?: number;
  approvalPending?: boolean;
  summary?: string | null;
  errorDetails?: ErrorDetails | null;
  agentName?: string | null;
  /**
   * ACTION_SUCCEEDED: the attempt's output variables when they fit in EVENT_OUTPUT_VARIABLES_BYTES;
   * absent when larger (a view then reads them).
   */
  outputVariables?: Record<string, string>;
  /** ACTION_SUCCEEDED: the artifacts the attempt produced (at most 5), as the execution records them. */
  outputArtifacts?: ArtifactLocation[];
  /** APPROVAL_*: the decision (who, when, why); null when there is none (timed out, or still pending). */
  approval?: { approved: boolean; summary: string; by: string; at: string } | null;
}

export interface EventEffect {
  type: "Event";
  event: PipelineEvent;
}

export type Effect = DispatchEffect | CancelEffect | ScheduleTimerEffect | CancelTimerEffect | EventEffect;

// ── decide ───────────────────────────────────────────────────────────────────────────────────────

export interface DecideContext {
  /** ISO time of the event. */
  now: string;
  /** A fresh unique id (action execution ids). */
  newId(): string;
}

export interface Decision {
  runtime: PipelineRuntime;
  effects: Effect[];
  /** Executions this decision changed, in the order of their first change; snapshot each with executionView. */
  changedExecutions: string[];
}

// ── Views ────────────────────────────────────────────────────────────────────────────────────────

/** One attempt of an action, as queries show it: the attempt's state as it is. */
export type ActionAttemptView = AttemptState;

/** One action of an execution: its current attempt's fields flattened, and every attempt. */
export interface ActionExecutionView {
  actionName: string;
  actionTypeId: ActionTypeId;
  runOrder: number;
  namespace: string | null;
  /** The agent pool that runs it; null is the default pool. */
  region: string | null;
  /** null: not started in the stage's current run. */
  status: ActionStatus | null;
  approvalPending: boolean;
  /** The current attempt's id; null before the first attempt. */
  actionExecutionId: string | null;
  /** The current attempt's number; 0 before the first attempt. */
  attempt: number;
  summary: string | null;
  errorDetails: ErrorDetails | null;
  externalUrl: string | null;
  startTime: string | null;
  endTime: string | null;
  resolvedConfiguration: Record<string, string> | null;
  /** RUN_ORDER while lower runOrders run; NO_AGENT while Queued. */
  waitingReason: WaitingReason | null;
  /** When the retry policy starts the next attempt (the current one failed); null otherwise. */
  retryAt: string | null;
  failureType: string | null;
  testReport: TestReport | null;
  attempts: ActionAttemptView[];
}

export interface StageExecutionView {
  stageName: string;
  status: StageStatus | null;
  startTime: string | null;
  endTime: string | null;
  actions: ActionExecutionView[];
}

export interface ExecutionView {
  pipelineName: string;
  executionId: string;
  pipelineVersion: number;
  executionMode: ExecutionMode;
  status: ExecutionStatus;
  statusSummary: string | null;
  trigger: Trigger;
  sourceRevisions: SourceRevision[];
  variables: { name: string; resolvedValue: string }[];
  rollback: { stageName: string; fromExecutionId: string } | null;
  startTime: string;
  lastUpdateTime: string;
  endTime: string | null;
  sequence: number;
  stop: StopRequest | null;
  /** The stage the execution waits in front of or works in; null once final. */
  currentStage: { stageName: string; entered: boolean } | null;
  waitingReason: WaitingReason | null;
  stages: StageExecutionView[];
  outputVariables: NamespacedVariables;
  artifacts: ArtifactLocation[];
}

export interface TransitionView {
  enabled: boolean;
  disabledReason: string | null;
  disabledBy: string | null;
  disabledAt: string | null;
  lastChangedBy: string | null;
  lastChangedAt: string | null;
}

export interface ActionLatestView {
  executionId: string;
  actionExecutionId: string;
  attempt: number;
  status: ActionStatus;
  approvalPending: boolean;
  summary: string | null;
  errorDetails: ErrorDetails | null;
  externalUrl: string | null;
  lastStatusChange: string;
}

/** `pipeline { state { stages { ... } } }`, for the stages of the pipeline's current document. */
export interface StageStateView {
  stageName: string;
  /** null for the first stage: it has no inbound transition. */
  inboundTransition: TransitionView | null;
  latestExecution: { executionId: string; status: StageStatus } | null;
  waitingExecutions: { executionId: string; waitingReason: WaitingReason | null }[];
  actions: { actionName: string; latestExecution: ActionLatestView | null }[];
}
