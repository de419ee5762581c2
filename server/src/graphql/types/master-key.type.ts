import { Field, Int, ObjectType } from "type-graphql";

@ObjectType("MasterKeyRotation", {
  description: "The outcome of a master key rotation: which key wraps the data keys now.",
})
export class MasterKeyRotationType {
  @Field({
    description: "The id of the master key that wraps every data key now (16 hex digits of its SHA-256).",
  })
  masterKeyId!: string;

  @Field(() => Int, { description: "Data keys this rotation re-wrapped." })
  rewrapped!: number;

  @Field({
    description:
      "Where the master key lives: FILE (a new key was made there) or ENVIRONMENT (SLUICE_MASTER_KEY; its first key is current).",
  })
  source!: string;
}
