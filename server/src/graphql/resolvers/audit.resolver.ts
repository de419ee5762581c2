import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import { actingAccount, DEFAULT_ACCOUNT } from "../../auth/principal";
import type { GraphQLContext } from "../context";
import { AuditEventConnection, AuditEventType } from "../types/audit.type";
import { PAGE_ARG_DESCRIPTIONS, pageQuery, toConnection } from "../types/connection";
import type { AuditEventRow } from "../../persistence/audit-store";

@Resolver(() => AuditEventType)
export class AuditResolver {
  @Authorized("sluice:ListAuditEvents")
  @Query(() => AuditEventConnection, {
    description:
      "The audit log, newest first: every mutation, and the refused queries and subscriptions (one row per principal, operation and resource per window, with its occurrences).",
  })
  async auditEvents(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.first(50) })
    first: number | null,
    @Arg("after", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.after })
    after: string | null,
    @Arg("pipelineName", () => String, { nullable: true }) pipelineName: string | null,
    @Arg("principal", () => String, { nullable: true }) principal: string | null,
    @Arg("operation", () => String, { nullable: true }) operation: string | null,
    @Arg("last", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.last }) last: number | null,
    @Arg("before", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.before })
    before: string | null,
  ) {
    const page = pageQuery({ first, after, last, before }, 50);
    // The caller's account's log: what was done in it, and what its principals did in others.
    const filter = { account: actingAccount(ctx.principal!), pipelineName, principal, operation };
    const rows = await ctx.audit.page(page, filter);
    return toConnection(
      rows,
      page,
      (row) => ctx.audit.cursorOf(row),
      auditEventType,
      () => ctx.audit.count(filter),
    );
  }
}

export const auditEventType = (row: AuditEventRow): AuditEventType => ({
  ...row,
  at: new Date(row.at),
  account: row.account ?? DEFAULT_ACCOUNT,
  principalAccount: row.principalAccount ?? DEFAULT_ACCOUNT,
  assumedRole: row.assumedRole ?? null,
  occurrences: row.occurrences ?? 1,
});
