/**
 * Checks on a GraphQL request that must come before Apollo parses it: a document nested
 * thousands of brackets deep overflows the parser's stack (graphql/limits.ts, `nestingError`).
 */
import type { RequestHandler } from "express";
import type { RequestLimits } from "../config";
import { DomainError } from "../domain/errors";
import { sendError } from "../http/errors";
import { nestingError } from "./limits";

export function graphqlGuard(limits: RequestLimits): RequestHandler {
  return (req, res, next) => {
    const body = req.body as { query?: unknown } | undefined;
    const query = typeof body?.query === "string" ? body.query : req.query.query;
    const error = typeof query === "string" ? nestingError(query, limits) : null;
    if (!error) {
      next();
      return;
    }
    const details = error.originalError instanceof DomainError ? error.originalError.details : {};
    sendError(res, 400, "LIMIT_EXCEEDED", error.message, details);
  };
}
