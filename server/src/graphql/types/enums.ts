import { registerEnumType } from "type-graphql";
import {
  PIPELINE_EVENT_TYPES,
  TRIGGER_TYPES,
  type ActionStatus,
  type ExecutionStatus,
  type StageStatus,
  type WaitingCode,
} from "../../domain/execution/types";

export enum ExecutionModeEnum {
  SUPERSEDED = "SUPERSEDED",
  QUEUED = "QUEUED",
  PARALLEL = "PARALLEL",
}
registerEnumType(ExecutionModeEnum, {
  name: "ExecutionMode",
  description: "How several executions share a pipeline's stages.",
  valuesConfig: {
    SUPERSEDED: {
      description: "A stage works on one execution; a newer one waiting at its entry replaces an older one.",
    },
    QUEUED: { description: "A stage works on one execution; the others wait in order." },
    PARALLEL: { description: "Executions run independently of each other." },
  },
});

export enum DocumentFormat {
  SLUICE = "SLUICE",
  AWS = "AWS",
}
registerEnumType(DocumentFormat, {
  name: "DocumentFormat",
  description: "The shape of an exported pipeline document.",
  valuesConfig: {
    SLUICE: { description: "Sluice's own document: post it again as input.pipeline of createPipelineV2." },
    AWS: { description: "The JSON `aws codepipeline get-pipeline` prints, with AWS-only fields restored." },
  },
});

/*
 * The closed sets of values the API returns, as enums (GitHub's convention): their values are the
 * strings the fields always held (CodePipeline's spellings), so a client reading JSON sees the same
 * text, and the schema now says which values exist.
 */

/** A TypeScript-enum-shaped object of string values, for registerEnumType. */
const valuesOf = <const T extends string>(values: readonly T[]): { [K in T]: K } =>
  Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const PipelineExecutionStatusEnum = valuesOf([
  "InProgress",
  "Stopping",
  "Stopped",
  "Succeeded",
  "Superseded",
  "Failed",
  "Cancelled",
] satisfies ExecutionStatus[]);
registerEnumType(PipelineExecutionStatusEnum, {
  name: "PipelineExecutionStatus",
  description:
    "An execution's status. Final: Stopped, Succeeded, Superseded, Failed, Cancelled (a retry resumes a Failed or Stopped one).",
});

export const StageExecutionStatusEnum = valuesOf([
  "InProgress",
  "Stopping",
  "Stopped",
  "Succeeded",
  "Failed",
  "Cancelled",
  "Skipped",
] satisfies StageStatus[]);
registerEnumType(StageExecutionStatusEnum, {
  name: "StageExecutionStatus",
  description: "A stage's status in an execution.",
});

export const ActionExecutionStatusEnum = valuesOf([
  "Queued",
  "InProgress",
  "Succeeded",
  "Failed",
  "Abandoned",
] satisfies ActionStatus[]);
registerEnumType(ActionExecutionStatusEnum, {
  name: "ActionExecutionStatus",
  description:
    "An action attempt's status. Queued: dispatched, no agent took it yet; a waiting approval is InProgress with approvalPending.",
});

export const TriggerTypeEnum = valuesOf(TRIGGER_TYPES);
registerEnumType(TriggerTypeEnum, { name: "TriggerType", description: "What started an execution." });

export const WaitingReasonCodeEnum = valuesOf([
  "TRANSITION_DISABLED",
  "STAGE_BUSY",
  "QUEUED",
  "NO_AGENT",
  "RUN_ORDER",
] satisfies WaitingCode[]);
registerEnumType(WaitingReasonCodeEnum, {
  name: "WaitingReasonCode",
  description:
    "Why something waits: TRANSITION_DISABLED (the transition into the stage is disabled), STAGE_BUSY (another execution holds the stage), QUEUED (behind another execution, or no agent has taken the job yet), NO_AGENT (no online agent of its pool runs its type), RUN_ORDER (lower runOrders first).",
});

export const PipelineEventTypeEnum = valuesOf(PIPELINE_EVENT_TYPES);
registerEnumType(PipelineEventTypeEnum, {
  name: "PipelineEventType",
  description:
    "What a pipeline event reports: a change of an execution, stage, action, approval, transition or definition.",
});
