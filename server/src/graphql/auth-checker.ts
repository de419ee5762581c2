import type { AuthChecker } from "type-graphql";
import { isAllowed } from "../auth/principal";
import { DomainError } from "../domain/errors";
import { auditRefusal } from "./audit";
import type { GraphQLContext } from "./context";

/**
 * The one authorization checker of every query, mutation and subscription (the graphql-ws
 * server runs the same schema, so subscriptions pass through it too). `roles` carry the IAM
 * action names (`sluice:CreatePipeline`); the admin principal may do everything. The security
 * issue evaluates policies in auth/principal.ts (isAllowed), which the HTTP routes use too.
 */
export const authChecker: AuthChecker<GraphQLContext> = async ({ context, info, args }, roles) => {
  if (!context.principal) {
    const message = "A valid API token is required: send it as `Authorization: Bearer <token>`.";
    // Every denied mutation is in the audit log (within a budget: audit.ts).
    await auditRefusal(context, info, args, "UNAUTHENTICATED", message);
    throw new DomainError("UNAUTHENTICATED", message);
  }
  if (isAllowed(context.principal, roles[0])) return true;
  const message = "You are not allowed to do this.";
  await auditRefusal(context, info, args, "FORBIDDEN", message);
  throw new DomainError("FORBIDDEN", message);
};
