import { Field, InputType, registerEnumType } from "type-graphql";

@InputType()
export class SourceRevisionInput {
  @Field({ description: "The source action the revision is for." })
  actionName!: string;

  @Field()
  revisionId!: string;

  @Field(() => String, { nullable: true })
  revisionSummary?: string | null;

  @Field(() => String, { nullable: true })
  revisionUrl?: string | null;
}

@InputType()
export class PipelineVariableOverride {
  @Field()
  name!: string;

  @Field()
  value!: string;
}

export enum RetryModeEnum {
  FAILED_ACTIONS = "FAILED_ACTIONS",
  ALL_ACTIONS = "ALL_ACTIONS",
}
registerEnumType(RetryModeEnum, {
  name: "StageRetryMode",
  valuesConfig: {
    FAILED_ACTIONS: { description: "Re-run the failed and abandoned actions." },
    ALL_ACTIONS: { description: "Re-run every action of the stage." },
  },
});
