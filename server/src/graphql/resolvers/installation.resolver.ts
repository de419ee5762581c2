import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { MasterKeyRotationType } from "../types/master-key.type";
import { RotateMasterKeyInput, RotateMasterKeyPayload } from "../types/mutation-io";
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
}
