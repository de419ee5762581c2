import crypto from "node:crypto";
import type { RequestHandler } from "express";
import type { Authenticator } from "../auth/authenticate";
import type { Logger } from "../logger";
import type { OperationRecord } from "../metrics/graphql-plugin";

/** What the error handler (http/errors.ts) found wrong with a request, for its log line. */
export interface RequestProblem {
  type: string;
  message: string;
}

/**
 * One log line per HTTP request, written when the response is sent: request id (taken from
 * `x-request-id` or made here), method, path (never the query string), status, duration, the
 * principal, and for GraphQL the operation's name, type and outcome. No header and no body is
 * logged: they carry tokens and documents with secrets.
 */
export function requestLogging(logger: Logger, authenticator: Authenticator): RequestHandler {
  return (req, res, next) => {
    const header = req.headers["x-request-id"];
    const requestId =
      typeof header === "string" && /^[\w.-]{1,100}$/.test(header) ? header : crypto.randomUUID();
    res.setHeader("x-request-id", requestId);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // The principal of a request that authenticated is in the authenticator's cache.
      void authenticator
        .authenticate(req.headers.authorization)
        .catch(() => null)
        .then((principal) => write(principal?.id ?? "anonymous", ms));
    });
    const write = (principal: string, ms: number) => {
      const operation = res.locals.operation as OperationRecord | undefined;
      const problem = res.locals.problem as RequestProblem | undefined;
      const status = res.statusCode;
      const line = {
        requestId,
        method: req.method,
        path: req.originalUrl.split("?")[0],
        status,
        durationMs: Math.round(ms * 10) / 10,
        principal,
        ...(operation?.operation !== undefined || operation?.type !== undefined
          ? { operation: operation.operation ?? null, operationType: operation.type }
          : {}),
        outcome: operation?.outcome ?? problem?.type ?? (status < 400 ? "ok" : `http_${status}`),
        ...(problem ? { problem: problem.message } : {}),
      };
      if (status >= 500) logger.warn(line, "request");
      else logger.info(line, "request");
    };
    next();
  };
}
