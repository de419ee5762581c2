import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import { actingAccount } from "../../auth/principal";
import type { GraphQLContext } from "../context";
import { AuditEventConnection, AuditEventType } from "../types/audit.type";
import { checkPageSize, toConnection } from "../types/connection";

@Resolver(() => AuditEventType)
export class AuditResolver {
  @Authorized("sluice:ListAuditEvents")
  @Query(() => AuditEventConnection, { description: "The audit log: every mutation, newest first." })
  async auditEvents(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { defaultValue: 50, description: "1–100." }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("pipelineName", () => String, { nullable: true }) pipelineName: string | null,
    @Arg("principal", () => String, { nullable: true }) principal: string | null,
    @Arg("operation", () => String, { nullable: true }) operation: string | null,
  ) {
    checkPageSize(first);
    // The caller's account's log: what was done in it, and what its principals did in others.
    const account = actingAccount(ctx.principal!);
    const rows = await ctx.audit.page({ account, first, after, pipelineName, principal, operation });
    return toConnection(
      rows,
      first,
      (row) => ctx.audit.cursorOf(row),
      (row) => ({ ...row, at: new Date(row.at) }),
    );
  }
}
