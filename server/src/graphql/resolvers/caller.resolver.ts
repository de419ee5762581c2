import { Arg, Ctx, FieldResolver, Resolver } from "type-graphql";
import { ValidationError } from "../../domain/errors";
import { actingAccount } from "../../auth/principal";
import { accountOfSrn, parseSrn } from "../../domain/policy";
import type { GraphQLContext } from "../context";
import { CallerIdentityType } from "../types/identity.type";

/**
 * `whoAmI { allowed(action, resource) }`: whether the caller's own policies allow an action on a
 * resource, as the one checker would decide it. For clients (the dashboard) to disable, with the
 * reason, what the server would refuse; it tells the caller nothing a try would not.
 */
@Resolver(() => CallerIdentityType)
export class CallerPermissionResolver {
  @FieldResolver(() => Boolean, {
    description:
      "Whether the caller's policies allow `action` (sluice:ManageNotifications) on `resource` (an SRN: srn:sluice:default:notifications), as the authorization checker decides it: never on a resource of another account than the one it acts in.",
  })
  allowed(
    @Ctx() ctx: GraphQLContext,
    @Arg("action") action: string,
    @Arg("resource", { description: "An SRN." }) resource: string,
  ): boolean {
    if (!parseSrn(resource)) {
      throw new ValidationError([
        { path: "resource", message: "must be an SRN such as srn:sluice:default:notifications" },
      ]);
    }
    const principal = ctx.principal;
    // As the checker: a resource of another account than the one the caller acts in, never.
    if (!principal || accountOfSrn(resource) !== actingAccount(principal)) return false;
    return principal.policies.isAllowed(action, resource);
  }
}
