import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { visibleItems } from "../../auth/authorization";
import { actingAccount, homeAccount } from "../../auth/principal";
import { formatSrn, validatePolicy } from "../../domain/policy";
import type { ApiTokenRow, PolicyRow } from "../../persistence/identity-store";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { DateTimeScalar, JSONObjectScalar, JSONScalar } from "../types/scalars";
import {
  ApiTokenType,
  CallerIdentityType,
  CreateApiTokenPayload,
  GroupType,
  PolicyAttachmentType,
  PolicySimulationType,
  PolicyType,
  PolicyValidationType,
  ServiceAccountType,
  UserType,
} from "../types/identity.type";

export const tokenType = (row: ApiTokenRow): ApiTokenType => ({
  ...row,
  principal: `${row.ownerKind}/${row.ownerName}`,
  roleSession: row.role
    ? `${formatSrn(row.role.account, { type: "role", name: row.role.name })} (session ${row.role.sessionName})`
    : null,
});
export const policyType = (row: PolicyRow): PolicyType => ({
  ...row,
  document: row.document as unknown as Record<string, unknown>,
});

/**
 * Users, groups, service accounts, API tokens, policies and attachments (docs/policies.md). What
 * each needs is in domain/policy/operations.ts (sluice:ManageIdentity on the principal or policy).
 */
@Resolver()
export class IdentityResolver {
  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => UserType, { description: "Creates a user (with no policy: attach one)." })
  async createUser(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("displayName", () => String, { nullable: true }) displayName: string | null,
    @Arg("email", () => String, { nullable: true }) email: string | null,
  ): Promise<UserType> {
    return ctx.identity.createUser(
      { name, displayName: displayName ?? null, email: email ?? null },
      ctx.principal!,
    );
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => GroupType)
  async createGroup(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<GroupType> {
    return { ...(await ctx.identity.createGroup(name, ctx.principal!)), members: [] };
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "True when the user was not in the group yet." })
  async addUserToGroup(
    @Ctx() ctx: GraphQLContext,
    @Arg("groupName") groupName: string,
    @Arg("userName") userName: string,
  ): Promise<boolean> {
    return ctx.identity.setMembership(groupName, userName, true, ctx.principal!);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "True when the user was in the group." })
  async removeUserFromGroup(
    @Ctx() ctx: GraphQLContext,
    @Arg("groupName") groupName: string,
    @Arg("userName") userName: string,
  ): Promise<boolean> {
    return ctx.identity.setMembership(groupName, userName, false, ctx.principal!);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => ServiceAccountType)
  async createServiceAccount(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("description", () => String, { nullable: true }) description: string | null,
  ): Promise<ServiceAccountType> {
    return ctx.identity.createServiceAccount(name, description ?? null, ctx.principal!);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateApiTokenPayload, {
    description: "A new API token for a user or service account; its secret is in this answer only.",
  })
  async createApiToken(
    @Ctx() ctx: GraphQLContext,
    @Arg("principal", { description: "user/<name> or service-account/<name>." }) principal: string,
    @Arg("description") description: string,
    @Arg("expiresAt", () => DateTimeScalar, { nullable: true }) expiresAt: Date | null,
  ): Promise<CreateApiTokenPayload> {
    const { token, secret } = await ctx.identity.createApiToken(
      principal,
      description,
      expiresAt ?? null,
      ctx.principal!,
    );
    return { token: tokenType(token), secret };
  }

  @Authorized()
  @Query(() => [ApiTokenType], {
    description: "API tokens (never their secrets), oldest first, with their last use.",
  })
  async apiTokens(
    @Ctx() ctx: GraphQLContext,
    @Arg("principal", () => String, { nullable: true, description: "Of one user or service account." })
    principal: string | null,
  ): Promise<ApiTokenType[]> {
    const rows = (await ctx.identity.apiTokens(principal ?? null, ctx.principal!)).map(tokenType);
    // Without a principal: the tokens of those the caller may manage.
    const account = actingAccount(ctx.principal!);
    return visibleItems(
      ctx.principal,
      "sluice:ManageIdentity",
      rows,
      (t) => `srn:sluice:${account}:${t.principal}`,
    );
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => ApiTokenType, {
    description: "Revokes an API token; connections opened with it close within seconds.",
  })
  async revokeApiToken(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string): Promise<ApiTokenType> {
    return tokenType(await ctx.identity.revokeApiToken(id, ctx.principal!));
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => PolicyType, { description: "Creates or replaces a customer policy (validated first)." })
  async putPolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("document", () => JSONObjectScalar) document: Record<string, unknown>,
    @Arg("description", () => String, { nullable: true }) description: string | null,
  ): Promise<PolicyType> {
    return policyType(await ctx.identity.putPolicy(name, description ?? null, document, ctx.principal!));
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "Deletes a customer policy that is attached nowhere." })
  async deletePolicy(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<boolean> {
    return ctx.identity.deletePolicy(name, ctx.principal!);
  }

  @Authorized()
  @Query(() => [PolicyType], { description: "The managed policies, then the customer ones." })
  async policies(@Ctx() ctx: GraphQLContext): Promise<PolicyType[]> {
    const rows = await ctx.identity.policies(ctx.principal!);
    const account = actingAccount(ctx.principal!);
    return visibleItems(ctx.principal, "sluice:ManageIdentity", rows, (p) =>
      formatSrn(account, { type: "policy", name: p.name }),
    ).map(policyType);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "Attaches a policy to a user, group, service account or role." })
  async attachPolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("policyName") policyName: string,
    @Arg("principal", { description: "user/<name>, group/<name>, service-account/<name> or role/<name>." })
    principal: string,
  ): Promise<boolean> {
    return ctx.identity.setAttachment(policyName, principal, true, ctx.principal!);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "Detaches a policy; true when it was attached." })
  async detachPolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("policyName") policyName: string,
    @Arg("principal") principal: string,
  ): Promise<boolean> {
    return ctx.identity.setAttachment(policyName, principal, false, ctx.principal!);
  }

  @Authorized()
  @Query(() => [UserType], { description: "The users of the caller's account it may manage, by name." })
  async users(@Ctx() ctx: GraphQLContext): Promise<UserType[]> {
    const account = actingAccount(ctx.principal!);
    return visibleItems(
      ctx.principal,
      "sluice:ManageIdentity",
      await ctx.identity.users(ctx.principal!),
      (u) => formatSrn(account, { type: "user", name: u.name }),
    );
  }

  @Authorized()
  @Query(() => [GroupType], {
    description: "The groups of the caller's account it may manage, by name, with their members.",
  })
  async groups(@Ctx() ctx: GraphQLContext): Promise<GroupType[]> {
    const account = actingAccount(ctx.principal!);
    return visibleItems(
      ctx.principal,
      "sluice:ManageIdentity",
      await ctx.identity.groups(ctx.principal!),
      (g) => formatSrn(account, { type: "group", name: g.name }),
    );
  }

  @Authorized()
  @Query(() => [ServiceAccountType], {
    description: "The service accounts of the caller's account it may manage, by name.",
  })
  async serviceAccounts(@Ctx() ctx: GraphQLContext): Promise<ServiceAccountType[]> {
    const account = actingAccount(ctx.principal!);
    return visibleItems(
      ctx.principal,
      "sluice:ManageIdentity",
      await ctx.identity.serviceAccounts(ctx.principal!),
      (s) => formatSrn(account, { type: "service-account", name: s.name }),
    );
  }

  @Authorized()
  @Query(() => [PolicyAttachmentType], {
    description: "Which policy is attached to which principal, for the principals the caller may manage.",
  })
  async policyAttachments(@Ctx() ctx: GraphQLContext): Promise<PolicyAttachmentType[]> {
    const account = actingAccount(ctx.principal!);
    const rows = (await ctx.identity.attachments(ctx.principal!)).map((a) => ({
      policyName: a.policyName,
      principal: `${a.principalKind}/${a.principalName}`,
      attachedAt: a.attachedAt,
      attachedBy: a.attachedBy,
    }));
    return visibleItems(
      ctx.principal,
      "sluice:ManageIdentity",
      rows,
      (a) => `srn:sluice:${account}:${a.principal}`,
    );
  }

  @Authorized()
  @Query(() => PolicyValidationType, {
    description:
      "Checks a policy document as putPolicy does, saving nothing: every problem with its path (the dashboard's editor asks as one types).",
  })
  validatePolicy(@Arg("document", () => JSONScalar) document: unknown): PolicyValidationType {
    const result = validatePolicy(document);
    return result.ok
      ? { valid: true, problems: [] }
      : { valid: false, problems: result.issues.map(({ path, message }) => ({ path, message })) };
  }

  @Authorized()
  @Query(() => CallerIdentityType, { description: "Who the caller is, with its effective policies." })
  async whoAmI(@Ctx() ctx: GraphQLContext): Promise<CallerIdentityType> {
    const p = ctx.principal!;
    const account = homeAccount(p);
    const base = { principal: p.id, kind: p.kind, name: p.name, account, actingAccount: actingAccount(p) };
    if (p.kind === "metrics" || p.kind === "agent")
      return { ...base, groups: [], policies: [], assumedRole: null };
    const policies = await ctx.identity.callerPolicies(p);
    return {
      ...base,
      srn: formatSrn(account, { type: p.kind, name: p.name }),
      groups: await ctx.identity.callerGroups(p),
      policies: policies.map((policy) => ({
        name: policy.name,
        attachedTo: policy.attachedTo ?? p.id,
        document: policy.document as unknown as Record<string, unknown>,
      })),
      assumedRole: p.assumedRole ?? null,
    };
  }

  @Authorized()
  @Query(() => PolicySimulationType, {
    description: "Whether a principal may do an action on a resource, and which statement decided.",
  })
  async simulatePolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("principal") principal: string,
    @Arg("action") action: string,
    @Arg("resource", { description: "An SRN: srn:sluice:default:pipeline/web/stage/Prod." }) resource: string,
  ): Promise<PolicySimulationType> {
    const result = await ctx.identity.simulate(principal, action, resource, ctx.principal!);
    return { ...result, allowed: result.decision === "ALLOW" };
  }
}
