import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import { DomainError } from "../domain/errors";
import type { Logger } from "../logger";
import { isUnavailable } from "../persistence/unavailable";

export { isUnavailable };

/**
 * Maps errors to what clients see: domain errors keep their message and code
 * (`extensions.code`, plus `validationErrors` for documents); GraphQL's own errors (parse,
 * validation, variable coercion) keep theirs; anything unexpected is logged and masked.
 */
export function createErrorFormatter(logger: Logger, development: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
    // A domain error thrown by a resolver, or carried by a GraphQLError raised outside one.
    const domain =
      original instanceof DomainError
        ? original
        : original instanceof GraphQLError && original.originalError instanceof DomainError
          ? original.originalError
          : null;
    if (domain) {
      return { ...base, message: domain.message, extensions: { code: domain.code, ...domain.details } };
    }
    if (isUnavailable(original)) {
      return {
        ...base,
        message: "The database is unavailable; try again shortly.",
        extensions: { code: "UNAVAILABLE" },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR") {
      return development ? formatted : { ...base, extensions: { code } };
    }
    if (original instanceof GraphQLError && !original.originalError) return formatted;
    logger.error({ err: original }, "unexpected error in a GraphQL operation");
    if (development) return formatted;
    return { ...base, message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
