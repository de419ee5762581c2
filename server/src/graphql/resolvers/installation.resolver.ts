import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import { ConflictError, ValidationError } from "../../domain/errors";
import { TooManySigningKeys } from "../../persistence/signing-key-store";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { MasterKeyRotationType } from "../types/master-key.type";
import { DEFAULT_SIGNING_KEY_GRACE_SECONDS, MAX_SIGNING_KEY_GRACE_SECONDS } from "../types/signing-key.type";
import {
  RotateMasterKeyInput,
  RotateMasterKeyPayload,
  RotateSigningKeyInput,
  RotateSigningKeyPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated } from "../deprecations";

@Resolver()
export class InstallationResolver {
  @Authorized("sluice:ManageInstallation")
  @UseMiddleware(auditMutations)
  @Mutation(() => RotateMasterKeyPayload, {
    description:
      "Re-wraps every data key of the secret values under the current master key, without downtime " +
      "(`sluice admin rotate-key`). With a key file the server makes a new master key first and drops " +
      "the old one at the end; with SLUICE_MASTER_KEY put the new key first (the old one after it) on " +
      "every server copy, rotate, then remove the old one.",
  })
  async rotateMasterKeyV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => RotateMasterKeyInput) input: InputOf<typeof RotateMasterKeyInput>,
  ) {
    const result = await ctx.vault.rotate();
    ctx.logger.info({ masterKeyId: result.masterKeyId, rewrapped: result.rewrapped }, "master key rotated");
    return payload(input, {
      rotation: { ...result, source: ctx.vault.keyring.file ? "FILE" : "ENVIRONMENT" },
    });
  }

  @Authorized("sluice:ManageInstallation")
  @UseMiddleware(auditMutations)
  @Mutation(() => MasterKeyRotationType, {
    description: "Re-wraps every data key of the secret values under the current master key.",
    ...deprecated("rotateMasterKey"),
  })
  async rotateMasterKey(@Ctx() ctx: GraphQLContext): Promise<MasterKeyRotationType> {
    return (await this.rotateMasterKeyV2(ctx, {})).rotation;
  }

  @Authorized("sluice:ManageInstallation")
  @UseMiddleware(auditMutations)
  @Mutation(() => RotateSigningKeyPayload, {
    description:
      "Makes a new key the one that signs jobs and cancels (`sluice admin rotate-signing-key`), without " +
      "downtime: this server copy signs with it at once, the others within 30 seconds; agents learn it with " +
      "their NATS credentials (and ask for them again when a job signed by a key they do not know arrives). " +
      "The keys signing before are accepted until `graceSeconds` from now (default: 8 days and 5 minutes, as " +
      "long as a signature lasts, so nothing already in the streams is refused), then refused. A compromised " +
      "key: graceSeconds 0. At most 7 keys may be retiring at once.",
  })
  async rotateSigningKey(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => RotateSigningKeyInput) input: InputOf<typeof RotateSigningKeyInput>,
  ) {
    const grace = input.graceSeconds ?? DEFAULT_SIGNING_KEY_GRACE_SECONDS;
    if (grace < 0 || grace > MAX_SIGNING_KEY_GRACE_SECONDS)
      throw new ValidationError([
        {
          path: "graceSeconds",
          message: `must be between 0 and ${MAX_SIGNING_KEY_GRACE_SECONDS} (30 days)`,
        },
      ]);
    try {
      const rotation = await ctx.signer.rotate(grace * 1000);
      ctx.logger.info(
        { publicKey: rotation.publicKey, retiring: rotation.retiring.length, graceSeconds: grace },
        "rotated the key that signs messages to agents",
      );
      return payload(input, { rotation });
    } catch (error) {
      if (error instanceof TooManySigningKeys)
        throw new ConflictError(error.message, { nextRetirement: error.nextRetirement.toISOString() });
      throw error;
    }
  }
}
