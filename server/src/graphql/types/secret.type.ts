import { Field, Int, ObjectType } from "type-graphql";

@ObjectType("Secret", {
  description:
    "A secret of the secret store: its name and metadata. No query returns its value: a pipeline " +
    "references it as `{{resolve:secret:NAME}}` in an action's configuration, and only the agent " +
    "that runs the job gets the value, sealed for its key.",
})
export class SecretType {
  @Field({
    description: "Referenced as `{{resolve:secret:NAME}}`; its SRN is `srn:sluice:<account>:secret/NAME`.",
  })
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Int, { description: "The latest version (each putSecret makes one; jobs use the latest)." })
  version!: number;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;

  @Field({ description: "Who stored the latest version." })
  updatedBy!: string;

  @Field()
  updatedAt!: Date;
}
