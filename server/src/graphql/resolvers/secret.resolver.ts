import { Arg, Authorized, Ctx, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { srnOf, visibleItems } from "../../auth/authorization";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { SecretType } from "../types/secret.type";

/**
 * The secret store (persistence/secret-store.ts). What each operation needs is in
 * domain/policy/operations.ts: sluice:ListSecrets to see names, sluice:ManageSecrets to put and
 * delete. Nothing here returns a value; the audit log masks `value`.
 */
@Resolver()
export class SecretResolver {
  @Authorized()
  @Query(() => [SecretType], {
    description:
      "The secrets the caller may list (sluice:ListSecrets on each): names and metadata, never values.",
  })
  async secrets(@Ctx() ctx: GraphQLContext): Promise<SecretType[]> {
    return visibleItems(ctx.principal, "sluice:ListSecrets", await ctx.secrets.list(), (s) =>
      srnOf.secret(s.name),
    );
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => SecretType, {
    description:
      "Stores a new version of a secret, creating it if needed (sluice:ManageSecrets). Pipelines that " +
      "reference it get the new value from their next job on. A null description keeps the stored one.",
  })
  async putSecret(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("value", { description: "The value, 1–65,536 characters. Never shown again." }) value: string,
    @Arg("description", () => String, { nullable: true }) description: string | null,
  ): Promise<SecretType> {
    return ctx.secrets.put(name, value, description ?? null, ctx.principal!.id);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description:
      "Deletes a secret, every version and its data key. Jobs of pipelines that still reference it fail " +
      "(ConfigurationError) until it is put again.",
  })
  async deleteSecret(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<boolean> {
    await ctx.secrets.delete(name);
    return true;
  }
}
