import { Arg, Args, Authorized, Ctx, Int, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { actingAccount } from "../../auth/principal";
import { visibleItems } from "../../auth/authorization";
import { DEFAULT_ACCOUNT, formatSrn } from "../../domain/policy";
import type { RoleRow } from "../../persistence/account-store";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { Connection, connectionOfList, LIST_PAGE_SIZE, PagingArgs } from "../types/connection";
import { AccountRetentionType, AccountType, RoleCredentialsType, RoleType } from "../types/identity.type";
import { JSONObjectScalar } from "../types/scalars";
import {
  AssumeRoleInput,
  AssumeRolePayload,
  CreateAccountInput,
  CreateAccountPayload,
  CreateRoleInput,
  CreateRolePayload,
  DeleteRoleInput,
  DeleteRolePayload,
  PutAccountRetentionInput,
  PutAccountRetentionPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated, deprecatedList } from "../deprecations";

const AccountConnection = Connection(AccountType, "Account");
const RoleConnection = Connection(RoleType, "Role");

const roleType = (row: RoleRow): RoleType => ({
  ...row,
  srn: formatSrn(row.account, { type: "role", name: row.name }),
  trustPolicy: row.trustPolicy as unknown as Record<string, unknown>,
});

/**
 * Accounts (tenants), roles and assumeRole (docs/policies.md, "Accounts and delegation"). What
 * each needs is in domain/policy/operations.ts; assumeRole is decided by the role's trust policy
 * in the one checker.
 */
@Resolver()
export class AccountResolver {
  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateAccountPayload, {
    description: "Creates an account (tenant). Managed from the default account (sluice:CreateAccount).",
  })
  async createAccountV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateAccountInput) input: InputOf<typeof CreateAccountInput>,
  ) {
    const account = await ctx.accounts.createAccount(input.id, input.description ?? null, ctx.principal!);
    return payload(input, { account });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => AccountType, {
    description: "Creates an account (tenant).",
    ...deprecated("createAccount"),
  })
  async createAccount(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", { description: "1 to 64 letters, digits, _ and -: what its SRNs carry." }) id: string,
    @Arg("description", () => String, { nullable: true }) description: string | null,
  ): Promise<AccountType> {
    return (await this.createAccountV2(ctx, { id, description })).account;
  }

  @Authorized()
  @Query(() => [AccountType], {
    ...deprecatedList("accounts"),
    description: "The accounts the caller may list (sluice:ListAccounts).",
  })
  async accounts(@Ctx() ctx: GraphQLContext): Promise<AccountType[]> {
    const rows = await ctx.accounts.accounts();
    return visibleItems(ctx.principal, "sluice:ListAccounts", rows, (a) =>
      formatSrn(DEFAULT_ACCOUNT, { type: "account", id: a.id }),
    );
  }

  @Authorized()
  @Query(() => AccountRetentionType, {
    description:
      "An account's retention of its pipelines' executions, logs and artifacts (sluice:GetRetentionSettings on account/<id>).",
  })
  async accountRetention(
    @Ctx() ctx: GraphQLContext,
    @Arg("account", { description: "The account's id." }) account: string,
  ): Promise<AccountRetentionType> {
    return ctx.accounts.accountRetention(account);
  }

  @Authorized()
  @Query(() => AccountConnection, {
    description: "The accounts the caller may list (sluice:ListAccounts), by id.",
  })
  async accountsV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.accounts(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (a) => [a.id]);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => PutAccountRetentionPayload, {
    description:
      "Sets an account's retention (sluice:PutRetentionSettings on account/<id>): a pipeline without a setting of its own keeps its finished executions, logs and artifacts this long and this many; a null or absent field inherits the installation's.",
  })
  async putAccountRetention(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => PutAccountRetentionInput) input: InputOf<typeof PutAccountRetentionInput>,
  ) {
    const accountRetention = await ctx.accounts.putAccountRetention(
      input.account,
      { executionDays: input.executionDays ?? null, maxExecutions: input.maxExecutions ?? null },
      ctx.principal!,
    );
    return payload(input, { accountRetention });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateRolePayload, {
    description:
      "Creates a role in the caller's account; attach policies to it with attachPolicyV2(input: { principal: role/<name> }).",
  })
  async createRoleV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateRoleInput) input: InputOf<typeof CreateRoleInput>,
  ) {
    const { name, trustPolicy, description, maxSessionSeconds } = input;
    const row = await ctx.accounts.createRole(
      { name, trustPolicy, description: description ?? null, maxSessionSeconds: maxSessionSeconds ?? null },
      ctx.principal!,
    );
    return payload(input, { role: roleType(row) });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => RoleType, {
    description: "Creates a role in the caller's account.",
    ...deprecated("createRole"),
  })
  async createRole(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("trustPolicy", () => JSONObjectScalar, {
      description:
        'Who may assume it: { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "sluice:AssumeRole", "Principal": { "Sluice": [...] } }] }.',
    })
    trustPolicy: Record<string, unknown>,
    @Arg("description", () => String, { nullable: true }) description: string | null,
    @Arg("maxSessionSeconds", () => Int, {
      nullable: true,
      description: "Longest session, 60 to 43200 seconds (12 h); default 3600.",
    })
    maxSessionSeconds: number | null,
  ): Promise<RoleType> {
    return (await this.createRoleV2(ctx, { name, trustPolicy, description, maxSessionSeconds })).role;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => DeleteRolePayload, {
    description: "Deletes a role with its attachments; its sessions' credentials stop working.",
  })
  async deleteRoleV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DeleteRoleInput) input: InputOf<typeof DeleteRoleInput>,
  ) {
    const deleted = await ctx.accounts.deleteRole(input.name, ctx.principal!);
    return payload(input, { deletedRoleName: input.name, deleted });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Deletes a role with its attachments.",
    ...deprecated("deleteRole"),
  })
  async deleteRole(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<boolean> {
    return (await this.deleteRoleV2(ctx, { name })).deleted;
  }

  @Authorized()
  @Query(() => [RoleType], {
    ...deprecatedList("roles"),
    description: "The roles of the caller's account that it may manage.",
  })
  async roles(@Ctx() ctx: GraphQLContext): Promise<RoleType[]> {
    const account = actingAccount(ctx.principal!);
    const rows = await ctx.accounts.roles(ctx.principal!);
    return visibleItems(ctx.principal, "sluice:ManageIdentity", rows, (r) =>
      formatSrn(account, { type: "role", name: r.name }),
    ).map(roleType);
  }

  @Authorized()
  @Query(() => RoleConnection, {
    description: "The roles of the caller's account that it may manage, by name.",
  })
  async rolesV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.roles(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (r) => [r.name]);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => AssumeRolePayload, {
    description:
      "Short-lived credentials acting as the role (in its account, with its policies only), if its trust policy names the caller.",
  })
  async assumeRoleV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => AssumeRoleInput) input: InputOf<typeof AssumeRoleInput>,
  ) {
    const credentials = await ctx.accounts.assumeRole(
      input.role,
      input.sessionName,
      input.durationSeconds ?? null,
      ctx.principal!,
    );
    return payload(input, {
      credentials: {
        secret: credentials.secret,
        tokenId: credentials.id,
        expiresAt: credentials.expiresAt,
        assumedRole: {
          srn: formatSrn(credentials.role.account, { type: "role", name: credentials.role.name }),
          account: credentials.role.account,
          name: credentials.role.name,
          sessionName: credentials.sessionName,
          expiresAt: credentials.expiresAt,
        },
      },
    });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => RoleCredentialsType, {
    description: "Short-lived credentials acting as the role, if its trust policy names the caller.",
    ...deprecated("assumeRole"),
  })
  async assumeRole(
    @Ctx() ctx: GraphQLContext,
    @Arg("role", { description: "role/<name> (the caller's account) or srn:sluice:<account>:role/<name>." })
    role: string,
    @Arg("sessionName", { description: "Names the session in the audit log: 2 to 64 of A-Za-z0-9_+=,.@-" })
    sessionName: string,
    @Arg("durationSeconds", () => Int, {
      nullable: true,
      description:
        "5 seconds to the role's maximum session duration; default 3600 (or the maximum, if less).",
    })
    durationSeconds: number | null,
  ): Promise<RoleCredentialsType> {
    return (await this.assumeRoleV2(ctx, { role, sessionName, durationSeconds })).credentials;
  }
}
