import { Field, ID, Int, ObjectType } from "type-graphql";
import { NodeInterface } from "./node.type";
import type { PipelineDocument } from "../../domain/pipeline/document";
import { ExecutionModeEnum } from "./enums";
import { DateTimeScalar, JSONObjectScalar, JSONScalar } from "./scalars";
import { MutationPayload } from "./mutation";

@ObjectType({ description: "Identifies an action type: category, owner, provider and version." })
export class ActionTypeIdType {
  @Field({ description: "Source, Build, Test, Deploy, Approval or Invoke." })
  category!: string;

  @Field({ description: "`Sluice` for built-in types, `Custom` for user-defined ones." })
  owner!: string;

  @Field()
  provider!: string;

  @Field()
  version!: string;
}

@ObjectType("Artifact", { description: "A named artifact an action consumes or produces." })
export class ArtifactRefType {
  @Field()
  name!: string;
}

@ObjectType("RetryPolicy", { description: "When a failed attempt of an action runs again by itself." })
export class RetryPolicyType {
  @Field(() => Int, { description: "Attempts in all, the first included (1–10)." })
  maxAttempts!: number;

  @Field(() => Int, { description: "Seconds to wait before the next attempt (0–3600)." })
  backoffSeconds!: number;

  @Field(() => [String], { description: "AGENT_LOST, FAILED and/or TIMED_OUT." })
  on!: string[];
}

@ObjectType("Action", { description: "An action of a stage, as declared in the pipeline document." })
export class ActionType {
  @Field()
  name!: string;

  @Field(() => ActionTypeIdType)
  actionTypeId!: ActionTypeIdType;

  @Field(() => Int)
  runOrder!: number;

  @Field(() => JSONObjectScalar, {
    description: 'Configuration properties: string keys to string values. Secret values show as "****".',
  })
  configuration!: Record<string, string>;

  @Field(() => [ArtifactRefType])
  inputArtifacts!: ArtifactRefType[];

  @Field(() => [ArtifactRefType])
  outputArtifacts!: ArtifactRefType[];

  @Field(() => String, { nullable: true })
  namespace!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The agent pool that runs the action; null is the default pool.",
  })
  region!: string | null;

  @Field(() => Int, { nullable: true })
  timeoutInMinutes!: number | null;

  @Field(() => RetryPolicyType, {
    nullable: true,
    description: "null: the default policy (AGENT_LOST retried up to 3 attempts, except Deploy actions).",
  })
  retryPolicy!: RetryPolicyType | null;

  @Field(() => JSONScalar, { nullable: true, description: "AWS-only fields kept from an imported document." })
  awsMetadata!: Record<string, unknown> | null;
}

@ObjectType("Stage")
export class StageType {
  @Field()
  name!: string;

  @Field(() => [ActionType])
  actions!: ActionType[];

  @Field(() => String, {
    nullable: true,
    description:
      "SUPERSEDE_PENDING_APPROVAL: a newer execution replaces one whose only pending work in this stage is a manual approval.",
  })
  onNewerRevision!: string | null;

  @Field(() => JSONScalar, { nullable: true })
  awsMetadata!: Record<string, unknown> | null;
}

@ObjectType("PipelineVariable")
export class PipelineVariableType {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  defaultValue!: string | null;

  @Field(() => String, { nullable: true })
  description!: string | null;
}

@ObjectType("GitFilterPatterns")
export class GitFilterPatternsType {
  @Field(() => [String])
  includes!: string[];

  @Field(() => [String])
  excludes!: string[];
}

@ObjectType("GitPushFilter")
export class GitPushFilterType {
  @Field(() => GitFilterPatternsType, { nullable: true })
  branches!: GitFilterPatternsType | null;

  @Field(() => GitFilterPatternsType, { nullable: true })
  filePaths!: GitFilterPatternsType | null;

  @Field(() => GitFilterPatternsType, { nullable: true })
  tags!: GitFilterPatternsType | null;
}

@ObjectType("GitConfiguration")
export class GitConfigurationType {
  @Field()
  sourceActionName!: string;

  @Field(() => [GitPushFilterType])
  push!: GitPushFilterType[];
}

@ObjectType("PipelineSchedule", {
  description: "Sluice: starts an execution on a timetable (trigger Schedule).",
})
export class PipelineScheduleType {
  @Field({ description: "Five fields: minute hour day-of-month month day-of-week." })
  cron!: string;

  @Field(() => String, { nullable: true, description: "IANA time zone; null is UTC." })
  timezone!: string | null;
}

@ObjectType("PipelineTrigger")
export class PipelineTriggerType {
  @Field()
  providerType!: string;

  @Field(() => GitConfigurationType)
  gitConfiguration!: GitConfigurationType;
}

/**
 * A pipeline at one of its versions (the current one unless a version was asked for). The
 * structure fields mirror the document, so that `document` can be posted back as PipelineInput.
 */
@ObjectType("Pipeline", { implements: NodeInterface })
export class PipelineType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field({
    description:
      "The account (tenant) it belongs to: the account its creator acted in. Its name is unique in the account.",
  })
  account!: string;

  @Field({
    description:
      "Its SRN, srn:sluice:<account>:pipeline/<name>: the resourceArn of tagResource, untagResource and listTagsForResource.",
  })
  srn!: string;

  @Field(() => Int, { description: "The version shown; grows by one with every change." })
  version!: number;

  @Field(() => Int, { description: "The pipeline's newest version." })
  latestVersion!: number;

  @Field(() => ExecutionModeEnum)
  executionMode!: ExecutionModeEnum;

  @Field(() => [PipelineVariableType])
  variables!: PipelineVariableType[];

  @Field(() => [PipelineTriggerType])
  triggers!: PipelineTriggerType[];

  @Field(() => [PipelineScheduleType])
  schedules!: PipelineScheduleType[];

  @Field(() => [StageType])
  stages!: StageType[];

  @Field(() => JSONScalar, { nullable: true })
  awsMetadata!: Record<string, unknown> | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { description: "When the newest version was written." })
  updatedAt!: Date;

  @Field(() => DateTimeScalar, { description: "Last definition change or execution event." })
  lastActivityAt!: Date;

  @Field({ description: "Who wrote the version shown." })
  versionCreatedBy!: string;

  @Field(() => DateTimeScalar, { description: "When the version shown was written." })
  versionCreatedAt!: Date;

  /** The normalized document of the version shown (not a GraphQL field: see `document`). */
  source!: PipelineDocument;
}

@ObjectType("PipelineVersion", {
  implements: NodeInterface,
  description: "One immutable version of a pipeline's document.",
})
export class PipelineVersionType {
  @Field(() => Int)
  version!: number;

  @Field()
  createdBy!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  source!: PipelineDocument;

  /** The pipeline it is a version of (its global id, and what reading it needs). */
  pipelineName!: string;
}

@ObjectType("ImportWarning", { description: "A mapping the import made; nothing is dropped silently." })
export class ImportWarningType {
  @Field()
  path!: string;

  @Field()
  message!: string;
}

@ObjectType("ImportPipelinePayload")
export class ImportPipelinePayload extends MutationPayload {
  @Field(() => PipelineType)
  pipeline!: PipelineType;

  @Field(() => [ImportWarningType])
  warnings!: ImportWarningType[];
}
