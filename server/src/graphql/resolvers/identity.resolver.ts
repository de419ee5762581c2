import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
  UseMiddleware,
} from "type-graphql";
import { visibleItems } from "../../auth/authorization";
import { actingAccount, homeAccount } from "../../auth/principal";
import { formatSrn, validatePolicy } from "../../domain/policy";
import type { ApiTokenRow, PolicyRow } from "../../persistence/identity-store";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { Connection, connectionOfList, LIST_PAGE_SIZE, PagingArgs } from "../types/connection";
import { DateTimeScalar, JSONObjectScalar, JSONScalar } from "../types/scalars";
import {
  ApiTokenType,
  CallerIdentityType,
  CreateApiTokenPayload,
  GroupMemberType,
  GroupType,
  PolicyAttachmentType,
  PolicySimulationType,
  PolicyType,
  PolicyValidationType,
  ServiceAccountType,
  UserType,
} from "../types/identity.type";
import {
  AddUserToGroupInput,
  AddUserToGroupPayload,
  AttachPolicyInput,
  AttachPolicyPayload,
  CreateApiTokenInput,
  CreateGroupInput,
  CreateGroupPayload,
  CreateServiceAccountInput,
  CreateServiceAccountPayload,
  CreateUserInput,
  CreateUserPayload,
  DeletePolicyInput,
  DeletePolicyPayload,
  DetachPolicyInput,
  DetachPolicyPayload,
  PutPolicyInput,
  PutPolicyPayload,
  RemoveUserFromGroupInput,
  RemoveUserFromGroupPayload,
  RevokeApiTokenInput,
  RevokeApiTokenPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated, deprecatedList } from "../deprecations";

const UserConnection = Connection(UserType, "User");
const GroupMemberConnection = Connection(GroupMemberType, "GroupMember");
const GroupConnection = Connection(GroupType, "Group");
const ServiceAccountConnection = Connection(ServiceAccountType, "ServiceAccount");
const ApiTokenConnection = Connection(ApiTokenType, "ApiToken");
const PolicyConnection = Connection(PolicyType, "Policy");
const PolicyAttachmentConnection = Connection(PolicyAttachmentType, "PolicyAttachment");

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

/** A group's members as a connection, by name (Group.members, the array, is deprecated). */
@Resolver(() => GroupType)
export class GroupMembersResolver {
  @FieldResolver(() => GroupMemberConnection, { description: "Its users, by name." })
  membersV2(@Root() group: GroupType, @Args() paging: PagingArgs) {
    const members = group.members.map((userName) => ({ userName }));
    return connectionOfList(members, paging, LIST_PAGE_SIZE, (m) => [m.userName]);
  }
}

/**
 * Users, groups, service accounts, API tokens, policies and attachments (docs/policies.md). What
 * each needs is in domain/policy/operations.ts (sluice:ManageIdentity on the principal or policy).
 */
@Resolver()
export class IdentityResolver {
  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateUserPayload, { description: "Creates a user (with no policy: attach one)." })
  async createUserV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateUserInput) input: InputOf<typeof CreateUserInput>,
  ) {
    const { name, displayName, email } = input;
    const user = await ctx.identity.createUser(
      { name, displayName: displayName ?? null, email: email ?? null },
      ctx.principal!,
    );
    return payload(input, { user });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => UserType, { description: "Creates a user.", ...deprecated("createUser") })
  async createUser(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("displayName", () => String, { nullable: true }) displayName: string | null,
    @Arg("email", () => String, { nullable: true }) email: string | null,
  ): Promise<UserType> {
    return (await this.createUserV2(ctx, { name, displayName, email })).user;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateGroupPayload, { description: "Creates a group (with no member and no policy)." })
  async createGroupV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateGroupInput) input: InputOf<typeof CreateGroupInput>,
  ) {
    const group = { ...(await ctx.identity.createGroup(input.name, ctx.principal!)), members: [] };
    return payload(input, { group });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => GroupType, { description: "Creates a group.", ...deprecated("createGroup") })
  async createGroup(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<GroupType> {
    return (await this.createGroupV2(ctx, { name })).group;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => AddUserToGroupPayload, { description: "Adds a user to a group." })
  async addUserToGroupV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => AddUserToGroupInput) input: InputOf<typeof AddUserToGroupInput>,
  ) {
    const { groupName, userName } = input;
    const changed = await ctx.identity.setMembership(groupName, userName, true, ctx.principal!);
    return payload(input, { groupName, userName, changed });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "True when the user was not in the group yet.",
    ...deprecated("addUserToGroup"),
  })
  async addUserToGroup(
    @Ctx() ctx: GraphQLContext,
    @Arg("groupName") groupName: string,
    @Arg("userName") userName: string,
  ): Promise<boolean> {
    return (await this.addUserToGroupV2(ctx, { groupName, userName })).changed;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => RemoveUserFromGroupPayload, { description: "Removes a user from a group." })
  async removeUserFromGroupV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => RemoveUserFromGroupInput) input: InputOf<typeof RemoveUserFromGroupInput>,
  ) {
    const { groupName, userName } = input;
    const changed = await ctx.identity.setMembership(groupName, userName, false, ctx.principal!);
    return payload(input, { groupName, userName, changed });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "True when the user was in the group.",
    ...deprecated("removeUserFromGroup"),
  })
  async removeUserFromGroup(
    @Ctx() ctx: GraphQLContext,
    @Arg("groupName") groupName: string,
    @Arg("userName") userName: string,
  ): Promise<boolean> {
    return (await this.removeUserFromGroupV2(ctx, { groupName, userName })).changed;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateServiceAccountPayload, {
    description: "Creates a service account (acts with API tokens).",
  })
  async createServiceAccountV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateServiceAccountInput) input: InputOf<typeof CreateServiceAccountInput>,
  ) {
    const serviceAccount = await ctx.identity.createServiceAccount(
      input.name,
      input.description ?? null,
      ctx.principal!,
    );
    return payload(input, { serviceAccount });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => ServiceAccountType, { ...deprecated("createServiceAccount") })
  async createServiceAccount(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("description", () => String, { nullable: true }) description: string | null,
  ): Promise<ServiceAccountType> {
    return (await this.createServiceAccountV2(ctx, { name, description })).serviceAccount;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateApiTokenPayload, {
    description: "A new API token for a user or service account; its secret is in this answer only.",
  })
  async createApiTokenV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateApiTokenInput) input: InputOf<typeof CreateApiTokenInput>,
  ): Promise<CreateApiTokenPayload> {
    const { token, secret } = await ctx.identity.createApiToken(
      input.principal,
      input.description,
      input.expiresAt ?? null,
      ctx.principal!,
    );
    return payload(input, { token: tokenType(token), secret });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateApiTokenPayload, {
    description: "A new API token for a user or service account; its secret is in this answer only.",
    ...deprecated("createApiToken"),
  })
  async createApiToken(
    @Ctx() ctx: GraphQLContext,
    @Arg("principal", { description: "user/<name> or service-account/<name>." }) principal: string,
    @Arg("description") description: string,
    @Arg("expiresAt", () => DateTimeScalar, { nullable: true }) expiresAt: Date | null,
  ): Promise<CreateApiTokenPayload> {
    return this.createApiTokenV2(ctx, { principal, description, expiresAt });
  }

  @Authorized()
  @Query(() => [ApiTokenType], {
    ...deprecatedList("apiTokens"),
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
  @Query(() => ApiTokenConnection, {
    description: "API tokens (never their secrets), oldest first, with their last use.",
  })
  async apiTokensV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("principal", () => String, { nullable: true, description: "Of one user or service account." })
    principal: string | null,
    @Args() paging: PagingArgs,
  ) {
    const all = await this.apiTokens(ctx, principal);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (t) => [t.createdAt.toISOString(), t.id]);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => RevokeApiTokenPayload, {
    description: "Revokes an API token; connections opened with it close within seconds.",
  })
  async revokeApiTokenV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => RevokeApiTokenInput) input: InputOf<typeof RevokeApiTokenInput>,
  ) {
    return payload(input, {
      apiToken: tokenType(await ctx.identity.revokeApiToken(input.id, ctx.principal!)),
    });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => ApiTokenType, {
    description: "Revokes an API token.",
    ...deprecated("revokeApiToken"),
  })
  async revokeApiToken(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string): Promise<ApiTokenType> {
    return (await this.revokeApiTokenV2(ctx, { id })).apiToken;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => PutPolicyPayload, {
    description: "Creates or replaces a customer policy (validated first).",
  })
  async putPolicyV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => PutPolicyInput) input: InputOf<typeof PutPolicyInput>,
  ) {
    const row = await ctx.identity.putPolicy(
      input.name,
      input.description ?? null,
      input.document,
      ctx.principal!,
    );
    return payload(input, { policy: policyType(row) });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => PolicyType, {
    description: "Creates or replaces a customer policy (validated first).",
    ...deprecated("putPolicy"),
  })
  async putPolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("document", () => JSONObjectScalar) document: Record<string, unknown>,
    @Arg("description", () => String, { nullable: true }) description: string | null,
  ): Promise<PolicyType> {
    return (await this.putPolicyV2(ctx, { name, document, description })).policy;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => DeletePolicyPayload, { description: "Deletes a customer policy that is attached nowhere." })
  async deletePolicyV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DeletePolicyInput) input: InputOf<typeof DeletePolicyInput>,
  ) {
    await ctx.identity.deletePolicy(input.name, ctx.principal!);
    return payload(input, { deletedPolicyName: input.name });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Deletes a customer policy that is attached nowhere.",
    ...deprecated("deletePolicy"),
  })
  async deletePolicy(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<boolean> {
    await this.deletePolicyV2(ctx, { name });
    return true;
  }

  @Authorized()
  @Query(() => [PolicyType], {
    ...deprecatedList("policies"),
    description: "The managed policies, then the customer ones.",
  })
  async policies(@Ctx() ctx: GraphQLContext): Promise<PolicyType[]> {
    const rows = await ctx.identity.policies(ctx.principal!);
    const account = actingAccount(ctx.principal!);
    return visibleItems(ctx.principal, "sluice:ManageIdentity", rows, (p) =>
      formatSrn(account, { type: "policy", name: p.name }),
    ).map(policyType);
  }

  @Authorized()
  @Query(() => PolicyConnection, { description: "The managed policies, then the customer ones, by name." })
  async policiesV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.policies(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (p) => [p.managed ? 0 : 1, p.name]);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => AttachPolicyPayload, {
    description: "Attaches a policy to a user, group, service account or role.",
  })
  async attachPolicyV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => AttachPolicyInput) input: InputOf<typeof AttachPolicyInput>,
  ) {
    const { policyName, principal } = input;
    const changed = await ctx.identity.setAttachment(policyName, principal, true, ctx.principal!);
    return payload(input, { policyName, principal, changed });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Attaches a policy to a user, group, service account or role.",
    ...deprecated("attachPolicy"),
  })
  async attachPolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("policyName") policyName: string,
    @Arg("principal", { description: "user/<name>, group/<name>, service-account/<name> or role/<name>." })
    principal: string,
  ): Promise<boolean> {
    return (await this.attachPolicyV2(ctx, { policyName, principal })).changed;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => DetachPolicyPayload, { description: "Detaches a policy from a principal." })
  async detachPolicyV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DetachPolicyInput) input: InputOf<typeof DetachPolicyInput>,
  ) {
    const { policyName, principal } = input;
    const changed = await ctx.identity.setAttachment(policyName, principal, false, ctx.principal!);
    return payload(input, { policyName, principal, changed });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Detaches a policy; true when it was attached.",
    ...deprecated("detachPolicy"),
  })
  async detachPolicy(
    @Ctx() ctx: GraphQLContext,
    @Arg("policyName") policyName: string,
    @Arg("principal") principal: string,
  ): Promise<boolean> {
    return (await this.detachPolicyV2(ctx, { policyName, principal })).changed;
  }

  @Authorized()
  @Query(() => [UserType], {
    ...deprecatedList("users"),
    description: "The users of the caller's account it may manage, by name.",
  })
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
  @Query(() => UserConnection, { description: "The users of the caller's account it may manage, by name." })
  async usersV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.users(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (u) => [u.name]);
  }

  @Authorized()
  @Query(() => [GroupType], {
    ...deprecatedList("groups"),
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
  @Query(() => GroupConnection, {
    description: "The groups of the caller's account it may manage, by name, with their members.",
  })
  async groupsV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.groups(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (g) => [g.name]);
  }

  @Authorized()
  @Query(() => [ServiceAccountType], {
    ...deprecatedList("serviceAccounts"),
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
  @Query(() => ServiceAccountConnection, {
    description: "The service accounts of the caller's account it may manage, by name.",
  })
  async serviceAccountsV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.serviceAccounts(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (s) => [s.name]);
  }

  @Authorized()
  @Query(() => [PolicyAttachmentType], {
    ...deprecatedList("policyAttachments"),
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
  @Query(() => PolicyAttachmentConnection, {
    description:
      "Which policy is attached to which principal, for the principals the caller may manage; by policy, then principal.",
  })
  async policyAttachmentsV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.policyAttachments(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (a) => [a.policyName, a.principal]);
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
