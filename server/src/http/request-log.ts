import crypto from "node:crypto";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Authenticator } from "../auth/authenticate";
import type { Logger } from "../logger";
import type { OperationRecord } from "../metrics/graphql-plugin";

/** What the client-error handler found wrong with a request, for its log line. */
interface RequestProblem {
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
      const operation = res.locals.operation as OperationRecord | undefined;
      const problem = res.locals.problem as RequestProblem | undefined;
      const status = res.statusCode;
      const line = {
        requestId,
        method: req.method,
        path: req.originalUrl.split("?")[0],
        status,
        durationMs: Math.round(ms * 10) / 10,
        principal: authenticator.authenticate(req.headers.authorization)?.id ?? "anonymous",
        ...(operation?.operation !== undefined || operation?.type !== undefined
          ? { operation: operation.operation ?? null, operationType: operation.type }
          : {}),
        outcome: operation?.outcome ?? problem?.type ?? (status < 400 ? "ok" : `http_${status}`),
        ...(problem ? { problem: problem.message } : {}),
      };
      if (status >= 500) logger.warn(line, "request");
      else logger.info(line, "request");
    });
    next();
  };
}

/** Fixed descriptions: a parser's own message can quote the body (and so a secret in it). */
const CLIENT_ERRORS: Record<string, { code: string; message: string }> = {
  "entity.parse.failed": { code: "BAD_REQUEST", message: "The request body is not valid JSON." },
  "entity.too.large": { code: "PAYLOAD_TOO_LARGE", message: "The request body is too large." },
  "encoding.unsupported": { code: "BAD_REQUEST", message: "The request body's encoding is not supported." },
  "charset.unsupported": { code: "BAD_REQUEST", message: "The request body's charset is not supported." },
  "request.aborted": { code: "BAD_REQUEST", message: "The request was aborted." },
};

/**
 * Errors thrown before a route answered (the body parsers). A client's mistake (a 4xx) is answered
 * as JSON and leaves one line, the request's own, with no stack and no body; anything else is a
 * server fault, logged once with its stack and answered 500 without details.
 */
export function requestErrors(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const e = error as { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown };
    const status =
      typeof e.status === "number" ? e.status : typeof e.statusCode === "number" ? e.statusCode : 500;
    if (status >= 400 && status < 500) {
      const known = CLIENT_ERRORS[String(e.type)] ?? {
        code: "BAD_REQUEST",
        message: "The request is malformed.",
      };
      res.locals.problem = {
        type: String(e.type ?? "client_error"),
        message: known.message,
      } satisfies RequestProblem;
      res.status(status).json({ errors: [{ message: known.message, extensions: { code: known.code } }] });
      return;
    }
    logger.error({ err: error, path: req.originalUrl.split("?")[0] }, "request failed");
    res.locals.problem = { type: "internal_error", message: "internal error" } satisfies RequestProblem;
    res.status(500).json({
      errors: [{ message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }],
    });
  };
}
