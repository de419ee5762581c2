import { Field, InputType, ObjectType } from "type-graphql";

@ObjectType("Tag", { description: "A key/value label on a pipeline (CodePipeline's Tag)." })
export class TagType {
  @Field({ description: "1–128 characters, unique on its resource." })
  key!: string;

  @Field({ description: "0–256 characters." })
  value!: string;
}

@InputType({ description: "A tag to set: keys starting with `aws:` or `sluice:` are reserved." })
export class TagInput {
  @Field({ description: "1–128 characters: letters, digits, spaces and _ . : / = + - @." })
  key!: string;

  @Field({ description: "0–256 characters, the same set as keys." })
  value!: string;
}

@InputType({ description: "Keeps the pipelines holding tag `key`, with `value` when it is given." })
export class TagFilterInput {
  @Field()
  key!: string;

  @Field(() => String, { nullable: true, description: "null: any value." })
  value?: string | null;
}

@ObjectType("ResourceTags", { description: "A resource's tags, by key, after the operation." })
export class ResourceTagsType {
  @Field({ description: "The resource's SRN: srn:sluice:<account>:pipeline/<name>." })
  resourceArn!: string;

  @Field(() => [TagType])
  tags!: TagType[];
}
