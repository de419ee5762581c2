import { Field, InputType, Int, ObjectType } from "type-graphql";
import { NodeInterface } from "./node.type";
import { ActionTypeIdType } from "./pipeline.type";

@ObjectType("ActionConfigurationProperty")
export class ConfigurationPropertyType {
  @Field()
  name!: string;

  @Field()
  required!: boolean;

  @Field({ description: "Secret values are masked wherever they are shown." })
  secret!: boolean;

  @Field()
  queryable!: boolean;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field({ description: "String, Number or Boolean." })
  type!: string;
}

@ObjectType("ArtifactDetails", { description: "How many artifacts of a kind an action of this type takes." })
export class ArtifactBoundsType {
  @Field(() => Int)
  minimumCount!: number;

  @Field(() => Int)
  maximumCount!: number;
}

@ObjectType("ActionTypeSettings")
export class ActionTypeSettingsType {
  @Field(() => String, { nullable: true })
  entityUrlTemplate!: string | null;

  @Field(() => String, { nullable: true })
  executionUrlTemplate!: string | null;

  @Field(() => String, { nullable: true })
  revisionUrlTemplate!: string | null;

  @Field(() => String, { nullable: true })
  thirdPartyConfigurationUrl!: string | null;
}

@ObjectType("ActionTypeDeclaration", {
  implements: NodeInterface,
  description: "A built-in or custom action type.",
})
export class ActionTypeDeclarationType {
  @Field(() => ActionTypeIdType)
  id!: ActionTypeIdType;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [ConfigurationPropertyType])
  configurationProperties!: ConfigurationPropertyType[];

  @Field(() => ArtifactBoundsType)
  inputArtifactDetails!: ArtifactBoundsType;

  @Field(() => ArtifactBoundsType)
  outputArtifactDetails!: ArtifactBoundsType;

  @Field(() => ActionTypeSettingsType)
  settings!: ActionTypeSettingsType;
}

@InputType()
export class ConfigurationPropertyInput {
  @Field()
  name!: string;

  @Field()
  required!: boolean;

  @Field({ nullable: true, description: "Accepted for AWS compatibility; Sluice keys properties by name." })
  key?: boolean;

  @Field({ nullable: true, defaultValue: false })
  secret?: boolean;

  @Field({ nullable: true, defaultValue: false })
  queryable?: boolean;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true, description: "String (default), Number or Boolean." })
  type?: string | null;
}

@InputType()
export class ArtifactBoundsInput {
  @Field(() => Int)
  minimumCount!: number;

  @Field(() => Int)
  maximumCount!: number;
}

@InputType()
export class ActionTypeSettingsInput {
  @Field(() => String, { nullable: true })
  entityUrlTemplate?: string | null;

  @Field(() => String, { nullable: true })
  executionUrlTemplate?: string | null;

  @Field(() => String, { nullable: true })
  revisionUrlTemplate?: string | null;

  @Field(() => String, { nullable: true })
  thirdPartyConfigurationUrl?: string | null;
}

@InputType({ description: "A custom action type, as CodePipeline's CreateCustomActionType takes it." })
export class CustomActionTypeInput {
  @Field()
  category!: string;

  @Field()
  provider!: string;

  @Field()
  version!: string;

  @Field(() => ActionTypeSettingsInput, { nullable: true })
  settings?: ActionTypeSettingsInput | null;

  @Field(() => [ConfigurationPropertyInput], { nullable: true })
  configurationProperties?: ConfigurationPropertyInput[] | null;

  @Field(() => ArtifactBoundsInput)
  inputArtifactDetails!: ArtifactBoundsInput;

  @Field(() => ArtifactBoundsInput)
  outputArtifactDetails!: ArtifactBoundsInput;
}
