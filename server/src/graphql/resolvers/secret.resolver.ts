import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { srnOf, visibleItems } from "../../auth/authorization";
import { actingAccount } from "../../auth/principal";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { Connection, connectionOfList, LIST_PAGE_SIZE, PagingArgs } from "../types/connection";
import { SecretType } from "../types/secret.type";
import {
  DeleteSecretInput,
  DeleteSecretPayload,
  PutSecretInput,
  PutSecretPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated, deprecatedList } from "../deprecations";

const SecretConnection = Connection(SecretType, "Secret");

/**
 * The secret store (persistence/secret-store.ts). What each operation needs is in
 * domain/policy/operations.ts: sluice:ListSecrets to see names, sluice:ManageSecrets to put and
 * delete. Nothing here returns a value; the audit log masks `value`.
 */
@Resolver()
export class SecretResolver {
  @Authorized()
  @Query(() => [SecretType], {
    ...deprecatedList("secrets"),
    description:
      "The secrets the caller may list (sluice:ListSecrets on each): names and metadata, never values.",
  })
  async secrets(@Ctx() ctx: GraphQLContext): Promise<SecretType[]> {
    // The secrets of the account the caller acts in.
    const account = actingAccount(ctx.principal!);
    return visibleItems(ctx.principal, "sluice:ListSecrets", await ctx.secrets.list(account), (s) =>
      srnOf.secret(account, s.name),
    );
  }

  @Authorized()
  @Query(() => SecretConnection, {
    description:
      "The secrets the caller may list (sluice:ListSecrets on each), by name: names and metadata, never values.",
  })
  async secretsV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.secrets(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (s) => [s.name]);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => PutSecretPayload, {
    description:
      "Stores a new version of a secret, creating it if needed (sluice:ManageSecrets). Pipelines that " +
      "reference it get the new value from their next job on. A null description keeps the stored one.",
  })
  async putSecretV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => PutSecretInput) input: InputOf<typeof PutSecretInput>,
  ) {
    const secret = await ctx.secrets.put(
      actingAccount(ctx.principal!),
      input.name,
      input.value,
      input.description ?? null,
      ctx.principal!.id,
    );
    return payload(input, { secret });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => SecretType, {
    description: "Stores a new version of a secret, creating it if needed.",
    ...deprecated("putSecret"),
  })
  async putSecret(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("value", { description: "The value, 1–65,536 characters. Never shown again." }) value: string,
    @Arg("description", () => String, { nullable: true }) description: string | null,
  ): Promise<SecretType> {
    return (await this.putSecretV2(ctx, { name, value, description })).secret;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => DeleteSecretPayload, {
    description:
      "Deletes a secret, every version and its data key. Jobs of pipelines that still reference it fail " +
      "(ConfigurationError) until it is put again.",
  })
  async deleteSecretV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DeleteSecretInput) input: InputOf<typeof DeleteSecretInput>,
  ) {
    await ctx.secrets.delete(actingAccount(ctx.principal!), input.name);
    return payload(input, { deletedSecretName: input.name });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Deletes a secret, every version and its data key.",
    ...deprecated("deleteSecret"),
  })
  async deleteSecret(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<boolean> {
    await this.deleteSecretV2(ctx, { name });
    return true;
  }
}
