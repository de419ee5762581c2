import { Field, ObjectType } from "type-graphql";
import { DateTimeScalar } from "./scalars";

@ObjectType("RetiringSigningKey", {
  description: "A key that signed jobs and cancels before a rotation: agents accept it until `retiresAt`.",
})
export class RetiringSigningKeyType {
  @Field({ description: "Its public key (raw ed25519, base64url)." })
  publicKey!: string;

  @Field(() => DateTimeScalar, {
    description: "When agents stop accepting what it signed (jobs and cancels still in the streams).",
  })
  retiresAt!: Date;
}

@ObjectType("SigningKeyRotation", {
  description:
    "The outcome of a rotation of the key that signs jobs and cancels (PROTOCOL.md 11.5): the new key signs from now on.",
})
export class SigningKeyRotationType {
  @Field({
    description:
      "The new key's public key (raw ed25519, base64url): agents learn it with their NATS credentials; pin it with `--server-key` where keys are pinned.",
  })
  publicKey!: string;

  @Field(() => [RetiringSigningKeyType], {
    description: "The keys being retired, latest retirement first (none when the grace was 0).",
  })
  retiring!: RetiringSigningKeyType[];
}
