import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import { DomainError } from "../domain/errors";
import type { Logger } from "../logger";
import { isTransientNatsError } from "@sluice/protocol";
import { isUnavailable } from "../persistence/unavailable";

export { isUnavailable };

/**
 * PostgreSQL's refusals of text it cannot store (22021: a NUL byte in text; 22P05: `\u0000` in
 * jsonb): the client's input, though graphql/limits.ts refuses such text before anything runs.
 */
const UNSTORABLE_TEXT_CODES = new Set(["22021", "22P05"]);

export function isUnstorableText(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } } | null;
  const code = e?.code ?? e?.driverError?.code;
  return code !== undefined && UNSTORABLE_TEXT_CODES.has(code);
}

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
    if (isUnstorableText(original)) {
      return {
        ...base,
        message: "Text cannot hold NUL characters or unpaired UTF-16 surrogates.",
        extensions: { code: "BAD_USER_INPUT" },
      };
    }
    if (isUnavailable(original)) {
      return {
        ...base,
        message: "The database is unavailable; try again shortly.",
        extensions: { code: "UNAVAILABLE" },
      };
    }
    // NATS away, or a NATS cluster electing a stream's leader after losing a node (logs, artifacts).
    if (isTransientNatsError(original)) {
      return {
        ...base,
        message: "The message store (NATS) is unavailable; try again shortly.",
        extensions: { code: "UNAVAILABLE" },
      };
    }
    // graphql's parser stops at `maxTokens` (SLUICE_MAX_QUERY_TOKENS) with a syntax error: it is a limit.
    const tokens = /^Syntax Error: Document contains more that (\d+) tokens/.exec(formatted.message);
    if (tokens) {
      const limit = Number(tokens[1]);
      return {
        message: `This document has more than ${limit.toLocaleString("en-US")} tokens, the limit (SLUICE_MAX_QUERY_TOKENS); split it into several requests.`,
        extensions: { code: "LIMIT_EXCEEDED", limit },
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
