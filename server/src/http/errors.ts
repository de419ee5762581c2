/**
 * Errors of the HTTP layer in the shape GraphQL clients read: `{ errors: [{ message,
 * extensions: { code } }] }` with a 4xx, on every route. Express would otherwise answer a body it
 * cannot read (bad JSON, an unknown charset or encoding, too large) and an unknown route with an
 * HTML page.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import { isTransientNatsError } from "@sluice/protocol";
import { isUnavailable } from "../persistence/unavailable";
import type { Logger } from "../logger";
import type { RequestProblem } from "./request-log";

export function sendError(
  res: Response,
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extra } }] });
}

/** body-parser's error types (`err.type`), as status, code and a sentence. */
const BODY_ERRORS: Record<string, { status: number; code: string; message: (e: BodyError) => string }> = {
  "entity.parse.failed": {
    status: 400,
    code: "BAD_REQUEST",
    message: () => "The request body is not valid JSON.",
  },
  "entity.too.large": {
    status: 413,
    code: "PAYLOAD_TOO_LARGE",
    message: (e) => `The request body is larger than the limit of ${e.limit} bytes.`,
  },
  "charset.unsupported": {
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: (e) => `The charset ${JSON.stringify(e.charset)} is not supported; send UTF-8.`,
  },
  "encoding.unsupported": {
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: (e) => `The content encoding ${JSON.stringify(e.encoding)} is not supported.`,
  },
  "request.size.invalid": {
    status: 400,
    code: "BAD_REQUEST",
    message: () => "The request body's length does not match its Content-Length.",
  },
  "request.aborted": { status: 400, code: "BAD_REQUEST", message: () => "The request was aborted." },
  "stream.encoding.set": {
    status: 400,
    code: "BAD_REQUEST",
    message: () => "The request body is unreadable.",
  },
  "stream.not.readable": {
    status: 400,
    code: "BAD_REQUEST",
    message: () => "The request body is unreadable.",
  },
};

interface BodyError {
  type?: string;
  status?: number;
  limit?: number;
  charset?: string;
  encoding?: string;
}

/** Last handler: a route nobody serves (or a method a route does not take) gets JSON. */
export function notFound(allowed: Record<string, string[]>): RequestHandler {
  return (req, res) => {
    const methods = Object.entries(allowed).find(
      ([prefix]) => req.path === prefix || req.path.startsWith(`${prefix}/`),
    )?.[1];
    if (methods && !methods.includes(req.method)) {
      res.setHeader("allow", methods.join(", "));
      sendError(
        res,
        405,
        "METHOD_NOT_ALLOWED",
        `${req.path} takes ${methods.join(" or ")}, not ${req.method}.`,
      );
      return;
    }
    sendError(res, 404, "NOT_FOUND", `Nothing is served at ${req.method} ${req.path}.`);
  };
}

/**
 * Last error handler: a body that cannot be read is the client's fault (4xx, said why, and named in
 * the request's own log line: no stack, nothing of the body); PostgreSQL or NATS away is a 503 the
 * client retries; anything else is logged and answered with a masked 500 in the same shape.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const e = (error ?? {}) as BodyError;
    const known = e.type ? BODY_ERRORS[e.type] : undefined;
    if (known) {
      const message = known.message(e);
      res.locals.problem = { type: e.type!, message } satisfies RequestProblem;
      sendError(res, known.status, known.code, message);
      return;
    }
    if (typeof e.status === "number" && e.status >= 400 && e.status < 500) {
      const message = "The request cannot be read.";
      res.locals.problem = { type: e.type ?? "client_error", message } satisfies RequestProblem;
      sendError(res, e.status, "BAD_REQUEST", message);
      return;
    }
    if (isUnavailable(error) || isTransientNatsError(error)) {
      // PostgreSQL or NATS away (a route's token check, say): the client asks again, nothing to fix.
      const message = "The server cannot reach its database or NATS; try again shortly.";
      res.locals.problem = { type: "unavailable", message } satisfies RequestProblem;
      sendError(res, 503, "UNAVAILABLE", message);
      return;
    }
    res.locals.problem = { type: "internal_error", message: "internal error" } satisfies RequestProblem;
    logger.error({ err: error }, "unexpected error in an HTTP request");
    sendError(res, 500, "INTERNAL_SERVER_ERROR", "Internal server error.");
  };
}
