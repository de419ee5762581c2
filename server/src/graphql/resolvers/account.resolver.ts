import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { actingAccount } from "../../auth/principal";
import { visibleItems } from "../../auth/authorization";
import { DEFAULT_ACCOUNT, formatSrn } from "../../domain/policy";
import type { RoleRow } from "../../persistence/account-store";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { AccountRetentionType, AccountType, RoleCredentialsType, RoleType } from "../types/identity.type";
import { JSONObjectScalar } from "../types/scalars";

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
  @Mutation(() => AccountType, {
    description: "Creates an account (tenant). Managed from the default account (sluice:CreateAccount).",
  })
  async createAccount(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", { description: "1 to 64 letters, digits, _ and -: what its SRNs carry." }) id: string,
    @Arg("description", () => String, { nullable: true }) description: string | null,
  ): Promise<AccountType> {
    return ctx.accounts.createAccount(id, description ?? null, ctx.principal!);
  }

  @Authorized()
  @Query(() => [AccountType], { description: "The accounts the caller may list (sluice:ListAccounts)." })
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
  @UseMiddleware(auditMutations)
  @Mutation(() => AccountRetentionType, {
    description:
      "Sets an account's retention (sluice:PutRetentionSettings on account/<id>): a pipeline without a setting of its own keeps its finished executions, logs and artifacts this long and this many; a null argument inherits the installation's.",
  })
  async putAccountRetention(
    @Ctx() ctx: GraphQLContext,
    @Arg("account", { description: "The account's id." }) account: string,
    @Arg("executionDays", () => Int, {
      nullable: true,
      description: "Finished executions older than this many days go (0: no age limit; null: inherit).",
    })
    executionDays: number | null,
    @Arg("maxExecutions", () => Int, {
      nullable: true,
      description:
        "At most this many executions per pipeline, the oldest finished go first (0: no limit; null: inherit).",
    })
    maxExecutions: number | null,
  ): Promise<AccountRetentionType> {
    return ctx.accounts.putAccountRetention(
      account,
      { executionDays: executionDays ?? null, maxExecutions: maxExecutions ?? null },
      ctx.principal!,
    );
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => RoleType, {
    description:
      "Creates a role in the caller's account; attach policies to it with attachPolicy(principal: role/<name>).",
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
    return roleType(
      await ctx.accounts.createRole(
        { name, trustPolicy, description: description ?? null, maxSessionSeconds: maxSessionSeconds ?? null },
        ctx.principal!,
      ),
    );
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Deletes a role with its attachments; its sessions' credentials stop working.",
  })
  async deleteRole(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<boolean> {
    return ctx.accounts.deleteRole(name, ctx.principal!);
  }

  @Authorized()
  @Query(() => [RoleType], { description: "The roles of the caller's account that it may manage." })
  async roles(@Ctx() ctx: GraphQLContext): Promise<RoleType[]> {
    const account = actingAccount(ctx.principal!);
    const rows = await ctx.accounts.roles(ctx.principal!);
    return visibleItems(ctx.principal, "sluice:ManageIdentity", rows, (r) =>
      formatSrn(account, { type: "role", name: r.name }),
    ).map(roleType);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => RoleCredentialsType, {
    description:
      "Short-lived credentials acting as the role (in its account, with its policies only), if its trust policy names the caller.",
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
    const credentials = await ctx.accounts.assumeRole(
      role,
      sessionName,
      durationSeconds ?? null,
      ctx.principal!,
    );
    return {
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
    };
  }
}
