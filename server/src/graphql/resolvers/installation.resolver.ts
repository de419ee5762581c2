import { Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { MasterKeyRotationType } from "../types/master-key.type";

@Resolver()
export class InstallationResolver {
  @Authorized("sluice:ManageInstallation")
  @UseMiddleware(auditMutations)
  @Mutation(() => MasterKeyRotationType, {
    description:
      "Re-wraps every data key of the secret values under the current master key, without downtime " +
      "(`sluice admin rotate-key`). With a key file the server makes a new master key first and drops " +
      "the old one at the end; with SLUICE_MASTER_KEY put the new key first (the old one after it) on " +
      "every server copy, rotate, then remove the old one.",
  })
  async rotateMasterKey(@Ctx() ctx: GraphQLContext): Promise<MasterKeyRotationType> {
    const result = await ctx.vault.rotate();
    ctx.logger.info({ masterKeyId: result.masterKeyId, rewrapped: result.rewrapped }, "master key rotated");
    return { ...result, source: ctx.vault.keyring.file ? "FILE" : "ENVIRONMENT" };
  }
}
