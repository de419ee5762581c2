import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { srnOf, visibleItems } from "../../auth/authorization";
import { actingAccount } from "../../auth/principal";
import { auditMutations } from "../audit";
import { createRegistry } from "../../domain/action-types/builtins";
import type { GraphQLContext } from "../context";
import { Connection, connectionOfList, LIST_PAGE_SIZE, PagingArgs } from "../types/connection";
import { ActionTypeDeclarationType, CustomActionTypeInput } from "../types/action-type.type";
import { toPlainJson } from "./plain";
import {
  CreateCustomActionTypeInput,
  CreateCustomActionTypePayload,
  DeleteCustomActionTypeInput,
  DeleteCustomActionTypePayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated, deprecatedList } from "../deprecations";

const ActionTypeDeclarationConnection = Connection(ActionTypeDeclarationType, "ActionTypeDeclaration");

@Resolver(() => ActionTypeDeclarationType)
export class ActionTypeResolver {
  @Authorized("sluice:ListActionTypes")
  @Query(() => [ActionTypeDeclarationType], {
    ...deprecatedList("actionTypes"),
    description: "Built-in and custom action types.",
  })
  async actionTypes(
    @Ctx() ctx: GraphQLContext,
    @Arg("category", () => String, { nullable: true }) category: string | null,
  ): Promise<ActionTypeDeclarationType[]> {
    const all = createRegistry(await ctx.store.customActionTypes()).all();
    const account = actingAccount(ctx.principal!);
    const listed = visibleItems(ctx.principal, "sluice:ListActionTypes", all, (t) =>
      srnOf.actionType(account, t.id),
    );
    return category ? listed.filter((t) => t.id.category === category) : listed;
  }

  @Authorized("sluice:ListActionTypes")
  @Query(() => ActionTypeDeclarationConnection, {
    description:
      "Built-in and custom action types, by category, owner, provider and version (CodePipeline's ListActionTypes).",
  })
  async listActionTypes(
    @Ctx() ctx: GraphQLContext,
    @Arg("category", () => String, { nullable: true }) category: string | null,
    @Args() paging: PagingArgs,
  ) {
    const all = await this.actionTypes(ctx, category);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (t) => [
      t.id.category,
      t.id.owner,
      t.id.provider,
      t.id.version,
    ]);
  }

  @Authorized("sluice:CreateCustomActionType")
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateCustomActionTypePayload, { description: "Adds an owner `Custom` action type." })
  async createCustomActionTypeV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateCustomActionTypeInput) input: InputOf<typeof CreateCustomActionTypeInput>,
  ) {
    const actionType = await ctx.definitions.createCustomActionType(
      toPlainJson(input.actionType),
      ctx.principal!,
    );
    return payload(input, { actionType });
  }

  @Authorized("sluice:CreateCustomActionType")
  @UseMiddleware(auditMutations)
  @Mutation(() => ActionTypeDeclarationType, {
    description: "Adds an owner `Custom` action type.",
    ...deprecated("createCustomActionType"),
  })
  async createCustomActionType(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CustomActionTypeInput) input: CustomActionTypeInput,
  ): Promise<ActionTypeDeclarationType> {
    return (await this.createCustomActionTypeV2(ctx, { actionType: input })).actionType;
  }

  @Authorized("sluice:DeleteCustomActionType")
  @UseMiddleware(auditMutations)
  @Mutation(() => DeleteCustomActionTypePayload, {
    description: "Removes a custom action type no pipeline uses.",
  })
  async deleteCustomActionTypeV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DeleteCustomActionTypeInput) input: InputOf<typeof DeleteCustomActionTypeInput>,
  ) {
    const { category, provider, version } = input;
    await ctx.definitions.deleteCustomActionType({ category: category as never, provider, version });
    return payload(input, { deletedActionTypeId: { category, owner: "Custom", provider, version } });
  }

  @Authorized("sluice:DeleteCustomActionType")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Removes a custom action type no pipeline uses.",
    ...deprecated("deleteCustomActionType"),
  })
  async deleteCustomActionType(
    @Ctx() ctx: GraphQLContext,
    @Arg("category") category: string,
    @Arg("provider") provider: string,
    @Arg("version") version: string,
  ): Promise<boolean> {
    await this.deleteCustomActionTypeV2(ctx, { category, provider, version });
    return true;
  }
}
