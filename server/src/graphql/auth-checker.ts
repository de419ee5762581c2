import type { AuthChecker } from "type-graphql";
import { DomainError } from "../domain/errors";
import type { GraphQLContext } from "./context";

/**
 * The one authorization checker of every query, mutation and subscription (the graphql-ws
 * server runs the same schema, so subscriptions pass through it too). `roles` carry the IAM
 * action names (`sluice:CreatePipeline`); the admin principal may do everything. The security
 * issue evaluates policies here.
 */
export const authChecker: AuthChecker<GraphQLContext> = ({ context }) => {
  if (!context.principal) {
    throw new DomainError(
      "UNAUTHENTICATED",
      "A valid API token is required: send it as `Authorization: Bearer <token>`.",
    );
  }
  if (context.principal.kind === "admin") return true;
  throw new DomainError("FORBIDDEN", "You are not allowed to do this.");
};
