import { Field, ObjectType } from "type-graphql";
import { SIGNATURE_CLOCK_SKEW_MS, SIGNATURE_LIFETIMES_MS } from "@sluice/protocol";
import { DateTimeScalar } from "./scalars";

/**
 * The default grace of a rotated signing key: as long as any signature it made lasts (a durable
 * cancel's, 8 days), plus the clock skew verifiers allow, so that nothing already in the streams
 * is refused.
 */
export const DEFAULT_SIGNING_KEY_GRACE_SECONDS = Math.ceil(
  (Math.max(...Object.values(SIGNATURE_LIFETIMES_MS)) + SIGNATURE_CLOCK_SKEW_MS) / 1000,
);
/** The longest grace: 30 days. */
export const MAX_SIGNING_KEY_GRACE_SECONDS = 30 * 86_400;

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
