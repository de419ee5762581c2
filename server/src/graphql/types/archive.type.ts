import { Field, Int, ObjectType } from "type-graphql";

@ObjectType("InstallationImport", {
  description:
    "What importInstallation added, and what the archive could not carry (secrets): the steps left to the operator.",
})
export class InstallationImportType {
  @Field(() => Int)
  pipelines!: number;

  @Field(() => Int, { description: "Versions of those pipelines, the current ones included." })
  pipelineVersions!: number;

  @Field(() => Int)
  customActionTypes!: number;

  @Field(() => Int, { description: "Agent tokens (their digests): agents keep working with their tokens." })
  agentTokens!: number;

  @Field(() => Int)
  notificationTargets!: number;

  @Field(() => Int)
  notificationRules!: number;

  @Field(() => Int, { description: "Finished executions with their history, when the archive holds them." })
  executions!: number;

  @Field(() => [String], {
    description:
      "Pipelines whose webhook has a new secret nobody knows yet: run createPipelineWebhook and give the sender its secret.",
  })
  webhooksToRenew!: string[];

  @Field(() => [String], {
    description:
      "Secret configuration values the archive holds masked (`pipeline/<name>: <path>`): update the pipeline with each value.",
  })
  secretsToReenter!: string[];

  @Field(() => [String], {
    description:
      "Notification targets whose secret parts were masked: update them; the rules that use them were imported disabled.",
  })
  targetsToReenter!: string[];
}
