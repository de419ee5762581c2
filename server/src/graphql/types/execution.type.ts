import { Field, ID, Int, ObjectType } from "type-graphql";
import {
  ActionExecutionStatusEnum,
  PipelineEventTypeEnum,
  PipelineExecutionStatusEnum,
  StageExecutionStatusEnum,
  TriggerTypeEnum,
  WaitingReasonCodeEnum,
} from "./enums";
import { NodeInterface } from "./node.type";
import { ActionTypeIdType } from "./pipeline.type";
import { DateTimeScalar, JSONObjectScalar } from "./scalars";

/*
 * Executions as the engine records them. The objects behind these types are the state
 * machine's views (domain/execution/types.ts); `name` maps onto `stageName`/`actionName`.
 */

@ObjectType("WaitingBlocker", { description: "What an execution or action waits for." })
export class WaitingBlockerType {
  @Field(() => ID, {
    nullable: true,
    description: "STAGE_BUSY: the execution holding the stage; QUEUED: the one ahead.",
  })
  executionId?: string;

  @Field({ nullable: true, description: "The blocking work is a manual approval waiting for a decision." })
  approvalPending?: boolean;

  @Field({ nullable: true })
  disabledBy?: string;

  @Field({ nullable: true })
  disabledReason?: string;

  @Field(() => Int, { nullable: true, description: "QUEUED: place in line, 1 = next." })
  position?: number;
}

@ObjectType("WaitingReason", { description: "Why something does not move: nothing waits silently." })
export class WaitingReasonType {
  @Field(() => WaitingReasonCodeEnum)
  code!: string;

  @Field()
  message!: string;

  @Field(() => DateTimeScalar)
  since!: string;

  @Field(() => WaitingBlockerType)
  blockedBy!: WaitingBlockerType;
}

@ObjectType("ExecutionTrigger")
export class TriggerType {
  @Field(() => TriggerTypeEnum)
  triggerType!: string;

  @Field(() => String, { nullable: true })
  triggerDetail!: string | null;
}

@ObjectType("SourceRevision")
export class SourceRevisionType {
  @Field()
  actionName!: string;

  @Field()
  revisionId!: string;

  @Field(() => String, { nullable: true })
  revisionSummary!: string | null;

  @Field(() => String, { nullable: true })
  revisionUrl!: string | null;
}

@ObjectType("ExecutionVariable")
export class ExecutionVariableType {
  @Field()
  name!: string;

  @Field()
  resolvedValue!: string;
}

@ObjectType("ArtifactLocation", { description: "An artifact stored in the object store." })
export class ArtifactLocationType {
  @Field()
  name!: string;

  @Field()
  objectKey!: string;

  @Field(() => Int, { description: "Bytes." })
  size!: number;

  @Field()
  sha256!: string;
}

@ObjectType("AgentRef")
export class AgentRefType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;
}

@ObjectType("ErrorDetails")
export class ErrorDetailsType {
  @Field()
  code!: string;

  @Field()
  message!: string;
}

@ObjectType("ApprovalDecision")
export class ApprovalDecisionType {
  @Field()
  approved!: boolean;

  @Field()
  summary!: string;

  @Field()
  by!: string;

  @Field(() => DateTimeScalar)
  at!: string;
}

@ObjectType("TestReport", { description: "Counts of the JUnit reports a Test action published." })
export class TestReportType {
  @Field(() => Int)
  passed!: number;

  @Field(() => Int, { description: "Failures and errors." })
  failed!: number;

  @Field(() => Int)
  skipped!: number;
}

@ObjectType("ActionAttempt", {
  implements: NodeInterface,
  description: "One run of an action: its own agent, result and times.",
})
export class ActionAttemptType {
  @Field(() => ID, { name: "id" })
  actionExecutionId!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "Failed attempts: the protocol's failure type (JobFailed, ConfigurationError, PermissionError, RevisionOutOfSync, RevisionUnavailable, SystemUnavailable).",
  })
  failureType?: string | null;

  @Field(() => String, { nullable: true, description: "Failed attempts: AGENT_LOST, FAILED or TIMED_OUT." })
  failureCause?: string | null;

  @Field(() => TestReportType, { nullable: true })
  testReport?: TestReportType | null;

  @Field(() => Int)
  attempt!: number;

  @Field(() => ActionExecutionStatusEnum)
  status!: string;

  @Field()
  approvalPending!: boolean;

  @Field(() => String, { nullable: true })
  summary!: string | null;

  @Field(() => ErrorDetailsType, { nullable: true })
  errorDetails!: ErrorDetailsType | null;

  @Field(() => String, { nullable: true })
  externalUrl!: string | null;

  @Field(() => AgentRefType, { nullable: true })
  agent!: AgentRefType | null;

  @Field(() => DateTimeScalar)
  queuedAt!: string;

  @Field(() => DateTimeScalar, { nullable: true })
  startTime!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endTime!: string | null;

  @Field(() => JSONObjectScalar, {
    description: 'The configuration with its variables resolved; secret values show as "****".',
  })
  resolvedConfiguration!: Record<string, string>;

  @Field(() => [ArtifactLocationType])
  inputArtifacts!: ArtifactLocationType[];

  @Field(() => [ArtifactLocationType])
  outputArtifacts!: ArtifactLocationType[];

  @Field(() => JSONObjectScalar)
  outputVariables!: Record<string, string>;

  @Field(() => ApprovalDecisionType, { nullable: true })
  approval!: ApprovalDecisionType | null;
}

@ObjectType("ActionExecution", {
  implements: NodeInterface,
  description: "An action of an execution; fields are those of its current attempt.",
})
export class ActionExecutionType {
  @Field(() => ID, {
    name: "id",
    nullable: true,
    description: "The current attempt's id; null before it starts.",
  })
  actionExecutionId!: string | null;

  @Field({ name: "name" })
  actionName!: string;

  @Field(() => ActionTypeIdType)
  actionTypeId!: ActionTypeIdType;

  @Field(() => Int)
  runOrder!: number;

  @Field(() => ActionExecutionStatusEnum, { nullable: true, description: "null before it starts." })
  status!: string | null;

  @Field()
  approvalPending!: boolean;

  @Field(() => Int)
  attempt!: number;

  @Field(() => String, { nullable: true })
  summary!: string | null;

  @Field(() => ErrorDetailsType, { nullable: true })
  errorDetails!: ErrorDetailsType | null;

  @Field(() => String, { nullable: true })
  externalUrl!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  startTime!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endTime!: string | null;

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description:
      'The current attempt\'s configuration with its variables resolved; secret values show as "****".',
  })
  resolvedConfiguration!: Record<string, string> | null;

  @Field(() => WaitingReasonType, { nullable: true })
  waitingReason!: WaitingReasonType | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "The current attempt failed and the retry policy starts the next one at this time.",
  })
  retryAt!: string | null;

  @Field(() => String, { nullable: true, description: "The current attempt's failure type, when it failed." })
  failureType!: string | null;

  @Field(() => TestReportType, {
    nullable: true,
    description: "Test actions: the current attempt's report counts.",
  })
  testReport!: TestReportType | null;

  @Field(() => [ActionAttemptType], { description: "Every attempt, the first first." })
  attempts!: ActionAttemptType[];
}

@ObjectType("StageExecution", { implements: NodeInterface })
export class StageExecutionType {
  @Field({ name: "name" })
  stageName!: string;

  @Field(() => StageExecutionStatusEnum, {
    nullable: true,
    description: "null: the execution has not entered the stage.",
  })
  status!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  startTime!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endTime!: string | null;

  @Field(() => [ActionExecutionType])
  actions!: ActionExecutionType[];
}

@ObjectType("CurrentStage")
export class CurrentStageType {
  @Field()
  stageName!: string;

  @Field({ description: "false: waiting at the stage's entry." })
  entered!: boolean;
}

@ObjectType("PipelineExecution", { implements: NodeInterface })
export class PipelineExecutionType {
  @Field(() => ID, { name: "id" })
  executionId!: string;

  @Field()
  pipelineName!: string;

  @Field(() => Int)
  pipelineVersion!: number;

  @Field(() => PipelineExecutionStatusEnum)
  status!: string;

  @Field(() => String, { nullable: true })
  statusSummary!: string | null;

  @Field(() => TriggerType)
  trigger!: TriggerType;

  @Field(() => [SourceRevisionType])
  sourceRevisions!: SourceRevisionType[];

  @Field(() => [ExecutionVariableType])
  variables!: ExecutionVariableType[];

  @Field(() => [ArtifactLocationType])
  artifacts!: ArtifactLocationType[];

  @Field(() => DateTimeScalar)
  startTime!: string;

  @Field(() => DateTimeScalar)
  lastUpdateTime!: string;

  @Field(() => DateTimeScalar, { nullable: true })
  endTime!: string | null;

  @Field(() => Int, { description: "Grows by one with every change of this execution." })
  sequence!: number;

  @Field(() => CurrentStageType, { nullable: true })
  currentStage!: CurrentStageType | null;

  @Field(() => WaitingReasonType, { nullable: true })
  waitingReason!: WaitingReasonType | null;

  @Field(() => [StageExecutionType])
  stages!: StageExecutionType[];
}

@ObjectType("TransitionState")
export class TransitionStateType {
  @Field()
  stageName!: string;

  @Field()
  enabled!: boolean;

  @Field(() => String, { nullable: true })
  disabledReason!: string | null;

  @Field(() => String, { nullable: true })
  disabledBy!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  disabledAt!: string | null;
}

@ObjectType("StageLatestExecution")
export class StageLatestExecutionType {
  @Field(() => ID)
  executionId!: string;

  @Field(() => StageExecutionStatusEnum)
  status!: string;
}

@ObjectType("WaitingExecution")
export class WaitingExecutionType {
  @Field(() => ID)
  executionId!: string;

  @Field(() => WaitingReasonType, { nullable: true })
  waitingReason!: WaitingReasonType | null;
}

@ObjectType("ActionLatestExecution")
export class ActionLatestExecutionType {
  @Field(() => ID)
  executionId!: string;

  @Field(() => ID)
  actionExecutionId!: string;

  @Field(() => Int)
  attempt!: number;

  @Field(() => ActionExecutionStatusEnum)
  status!: string;

  @Field()
  approvalPending!: boolean;

  @Field(() => String, { nullable: true })
  summary!: string | null;

  @Field(() => ErrorDetailsType, { nullable: true })
  errorDetails!: ErrorDetailsType | null;

  @Field(() => String, { nullable: true })
  externalUrl!: string | null;

  @Field(() => DateTimeScalar)
  lastStatusChange!: string;
}

@ObjectType("ActionState")
export class ActionStateType {
  @Field({ name: "name" })
  actionName!: string;

  @Field(() => ActionLatestExecutionType, { nullable: true })
  latestExecution!: ActionLatestExecutionType | null;
}

@ObjectType("StageState")
export class StageStateType {
  @Field({ name: "name" })
  stageName!: string;

  @Field(() => TransitionStateType, { nullable: true, description: "null for the first stage." })
  inboundTransition!: TransitionStateType | null;

  @Field(() => StageLatestExecutionType, { nullable: true })
  latestExecution!: StageLatestExecutionType | null;

  @Field(() => [WaitingExecutionType])
  waitingExecutions!: WaitingExecutionType[];

  @Field(() => [ActionStateType])
  actions!: ActionStateType[];
}

@ObjectType("PipelineState")
export class PipelineStateType {
  @Field(() => [StageStateType])
  stages!: StageStateType[];
}

@ObjectType("PipelineEvent", { description: "One change of a pipeline, as subscribers receive it." })
export class PipelineEventType {
  @Field()
  pipelineName!: string;

  @Field(() => PipelineEventTypeEnum)
  type!: string;

  @Field(() => ID, { nullable: true })
  executionId!: string | null;

  @Field(() => Int, { nullable: true, description: "Per execution; grows by one per change." })
  sequence!: number | null;

  @Field({ nullable: true })
  stageName?: string;

  @Field({ nullable: true })
  actionName?: string;

  @Field(() => ID, { nullable: true })
  actionExecutionId?: string;

  @Field({
    nullable: true,
    description:
      "The new status of what the event is about: a PipelineExecutionStatus, StageExecutionStatus or ActionExecutionStatus.",
  })
  status?: string;

  @Field(() => Int, {
    nullable: true,
    description: "PIPELINE_CREATED / PIPELINE_UPDATED: the pipeline's version now.",
  })
  pipelineVersion?: number;

  @Field({ nullable: true, description: "Definition and transition events: who made the change." })
  by?: string;

  @Field(() => DateTimeScalar)
  at!: string;

  // What changed, as the execution's views show it after the change: a live view applies the
  // event to what it shows, without reading anything again (docs/ARCHITECTURE.md, live views).
  // Resolved from the event itself; absent (null) in events stored before they were carried.

  @Field(() => String, {
    nullable: true,
    description: "EXECUTION_*: the execution's status summary after the change.",
  })
  statusSummary?: string | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      "When what the event is about (execution, stage or action attempt) started, after the change.",
  })
  startTime?: string | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "When what the event is about ended, after the change; null while it runs.",
  })
  endTime?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: "ACTION_* and APPROVAL_*: the attempt's number (1, 2, …).",
  })
  attempt?: number;

  @Field(() => Boolean, {
    nullable: true,
    description: "ACTION_* and APPROVAL_*: the attempt waits for an approval.",
  })
  approvalPending?: boolean;

  @Field(() => String, { nullable: true, description: "ACTION_* and APPROVAL_*: the attempt's summary." })
  summary?: string | null;

  @Field(() => ErrorDetailsType, {
    nullable: true,
    description: "ACTION_* and APPROVAL_*: why the attempt failed.",
  })
  errorDetails?: ErrorDetailsType | null;

  @Field(() => String, { nullable: true, description: "ACTION_*: the agent that runs or ran the attempt." })
  agentName?: string | null;

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description:
      "ACTION_SUCCEEDED: the attempt's output variables, when they are small (4 KiB as JSON); null when they are larger, and a view reads them from the execution.",
  })
  outputVariables?: Record<string, string>;

  @Field(() => [ArtifactLocationType], {
    nullable: true,
    description:
      "ACTION_SUCCEEDED: the artifacts the attempt produced, as the execution's artifacts list them.",
  })
  outputArtifacts?: ArtifactLocationType[];

  @Field(() => ApprovalDecisionType, {
    nullable: true,
    description:
      "APPROVAL_*: the decision (who, when, why); null when there is none (timed out, or pending).",
  })
  approval?: ApprovalDecisionType | null;
}
