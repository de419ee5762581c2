import { Field, InputType, Int } from "type-graphql";
import { ExecutionModeEnum } from "./enums";
import { JSONObjectScalar, JSONScalar } from "./scalars";

/*
 * The input types mirror the pipeline document field for field, so the JSON of
 * `pipeline { document }` can be posted again as `createPipelineV2(input: { pipeline })`. Rules beyond
 * GraphQL's types (patterns, limits, references) are checked by the domain validator, which
 * reports every problem with its path.
 */

@InputType()
export class ActionTypeIdInput {
  @Field()
  category!: string;

  @Field()
  owner!: string;

  @Field()
  provider!: string;

  @Field()
  version!: string;
}

@InputType()
export class ArtifactInput {
  @Field()
  name!: string;
}

@InputType()
export class RetryPolicyInput {
  @Field(() => Int)
  maxAttempts!: number;

  @Field(() => Int, { nullable: true, description: "Default 0." })
  backoffSeconds?: number | null;

  @Field(() => [String], { description: "AGENT_LOST, FAILED and/or TIMED_OUT." })
  on!: string[];
}

@InputType()
export class ActionInput {
  @Field()
  name!: string;

  @Field(() => ActionTypeIdInput)
  actionTypeId!: ActionTypeIdInput;

  @Field(() => Int, { nullable: true, description: "1–999; default 1." })
  runOrder?: number | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  configuration?: Record<string, unknown> | null;

  @Field(() => [ArtifactInput], { nullable: true })
  inputArtifacts?: ArtifactInput[] | null;

  @Field(() => [ArtifactInput], { nullable: true })
  outputArtifacts?: ArtifactInput[] | null;

  @Field(() => String, { nullable: true })
  namespace?: string | null;

  @Field(() => String, { nullable: true, description: "The agent pool that runs the action." })
  region?: string | null;

  @Field(() => Int, { nullable: true })
  timeoutInMinutes?: number | null;

  @Field(() => RetryPolicyInput, { nullable: true })
  retryPolicy?: RetryPolicyInput | null;

  @Field(() => JSONScalar, { nullable: true })
  awsMetadata?: unknown;
}

@InputType()
export class StageInput {
  @Field()
  name!: string;

  @Field(() => [ActionInput])
  actions!: ActionInput[];

  @Field(() => String, { nullable: true, description: "SUPERSEDE_PENDING_APPROVAL, or null." })
  onNewerRevision?: string | null;

  @Field(() => JSONScalar, { nullable: true })
  awsMetadata?: unknown;
}

@InputType()
export class PipelineVariableInput {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  defaultValue?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType()
export class GitFilterPatternsInput {
  @Field(() => [String], { nullable: true })
  includes?: string[] | null;

  @Field(() => [String], { nullable: true })
  excludes?: string[] | null;
}

@InputType()
export class GitPushFilterInput {
  @Field(() => GitFilterPatternsInput, { nullable: true })
  branches?: GitFilterPatternsInput | null;

  @Field(() => GitFilterPatternsInput, { nullable: true })
  filePaths?: GitFilterPatternsInput | null;

  @Field(() => GitFilterPatternsInput, { nullable: true })
  tags?: GitFilterPatternsInput | null;
}

@InputType()
export class GitConfigurationInput {
  @Field()
  sourceActionName!: string;

  @Field(() => [GitPushFilterInput], { nullable: true })
  push?: GitPushFilterInput[] | null;
}

@InputType()
export class PipelineTriggerInput {
  @Field()
  providerType!: string;

  @Field(() => GitConfigurationInput)
  gitConfiguration!: GitConfigurationInput;
}

@InputType()
export class PipelineScheduleInput {
  @Field({ description: "Five fields: minute hour day-of-month month day-of-week." })
  cron!: string;

  @Field(() => String, { nullable: true, description: "IANA time zone; null is UTC." })
  timezone?: string | null;
}

@InputType({ description: "A pipeline document: the same fields `pipeline { document }` returns." })
export class PipelineInput {
  @Field()
  name!: string;

  @Field(() => ExecutionModeEnum, { nullable: true, description: "Default SUPERSEDED." })
  executionMode?: ExecutionModeEnum | null;

  @Field(() => [PipelineVariableInput], { nullable: true })
  variables?: PipelineVariableInput[] | null;

  @Field(() => [PipelineTriggerInput], { nullable: true })
  triggers?: PipelineTriggerInput[] | null;

  @Field(() => [PipelineScheduleInput], { nullable: true })
  schedules?: PipelineScheduleInput[] | null;

  @Field(() => [StageInput])
  stages!: StageInput[];

  @Field(() => JSONScalar, { nullable: true })
  awsMetadata?: unknown;
}

@InputType()
export class AddStageEdit {
  @Field(() => Int, { nullable: true, description: "Position of the new stage; default: after the last." })
  index?: number | null;

  @Field(() => StageInput)
  stage!: StageInput;
}

@InputType()
export class RemoveStageEdit {
  @Field()
  name!: string;
}

@InputType()
export class RenameStageEdit {
  @Field()
  name!: string;

  @Field()
  newName!: string;
}

@InputType()
export class MoveStageEdit {
  @Field()
  name!: string;

  @Field(() => Int)
  index!: number;
}

@InputType()
export class AddActionEdit {
  @Field()
  stageName!: string;

  @Field(() => ActionInput)
  action!: ActionInput;
}

@InputType()
export class UpdateActionEdit {
  @Field()
  stageName!: string;

  @Field()
  actionName!: string;

  @Field(() => ActionInput, { description: "Replaces the action whole (it may rename it)." })
  action!: ActionInput;
}

@InputType()
export class RemoveActionEdit {
  @Field()
  stageName!: string;

  @Field()
  actionName!: string;
}

@InputType({ description: "One edit of editStagesV2: set exactly one of the fields." })
export class StageEditInput {
  @Field(() => AddStageEdit, { nullable: true })
  addStage?: AddStageEdit | null;

  @Field(() => RemoveStageEdit, { nullable: true })
  removeStage?: RemoveStageEdit | null;

  @Field(() => RenameStageEdit, { nullable: true })
  renameStage?: RenameStageEdit | null;

  @Field(() => MoveStageEdit, { nullable: true })
  moveStage?: MoveStageEdit | null;

  @Field(() => AddActionEdit, { nullable: true })
  addAction?: AddActionEdit | null;

  @Field(() => UpdateActionEdit, { nullable: true })
  updateAction?: UpdateActionEdit | null;

  @Field(() => RemoveActionEdit, { nullable: true })
  removeAction?: RemoveActionEdit | null;
}
