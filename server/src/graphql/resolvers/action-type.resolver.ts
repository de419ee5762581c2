import { Arg, Authorized, Ctx, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { srnOf, visibleItems } from "../../auth/authorization";
import { auditMutations } from "../audit";
import { createRegistry } from "../../domain/action-types/builtins";
import type { GraphQLContext } from "../context";
import { ActionTypeDeclarationType, CustomActionTypeInput } from "../types/action-type.type";
import { toPlainJson } from "./plain";

@Resolver(() => ActionTypeDeclarationType)
export class ActionTypeResolver {
  @Authorized("sluice:ListActionTypes")
  @Query(() => [ActionTypeDeclarationType], { description: "Built-in and custom action types." })
  async actionTypes(
    @Ctx() ctx: GraphQLContext,
    @Arg("category", () => String, { nullable: true }) category: string | null,
  ): Promise<ActionTypeDeclarationType[]> {
    const all = createRegistry(await ctx.store.customActionTypes()).all();
    const listed = visibleItems(ctx.principal, "sluice:ListActionTypes", all, (t) => srnOf.actionType(t.id));
    return category ? listed.filter((t) => t.id.category === category) : listed;
  }

  @Authorized("sluice:CreateCustomActionType")
  @UseMiddleware(auditMutations)
  @Mutation(() => ActionTypeDeclarationType, { description: "Adds an owner `Custom` action type." })
  async createCustomActionType(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CustomActionTypeInput) input: CustomActionTypeInput,
  ): Promise<ActionTypeDeclarationType> {
    return ctx.definitions.createCustomActionType(toPlainJson(input), ctx.principal!);
  }

  @Authorized("sluice:DeleteCustomActionType")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "Removes a custom action type no pipeline uses." })
  async deleteCustomActionType(
    @Ctx() ctx: GraphQLContext,
    @Arg("category") category: string,
    @Arg("provider") provider: string,
    @Arg("version") version: string,
  ): Promise<boolean> {
    await ctx.definitions.deleteCustomActionType({ category: category as never, provider, version });
    return true;
  }
}
