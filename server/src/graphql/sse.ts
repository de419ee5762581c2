/**
 * GraphQL over Server-Sent Events (graphql-sse, "distinct connections" mode), beside graphql-ws:
 * a request with `Accept: text/event-stream` gets its operation's results as events, so curl or
 * an EventSource-like client can follow a subscription. The rest go on to Apollo.
 *
 * It is held to what the WebSocket transport is held to: a valid bearer token (401 otherwise,
 * as graphql-ws closes with 4403), the request limits (body size from express.json, nesting,
 * cost, aliases: socketOperation), the same schema (so the one authorization checker and the
 * audit middleware), the subscription hub, and the same error formatting. Mutations over GET
 * are refused by graphql-sse (405).
 */
import type { RequestHandler } from "express";
import type { ExecutionArgs, ExecutionResult, GraphQLSchema } from "graphql";
import { createHandler } from "graphql-sse/lib/use/express";
import type { Closable } from "../auth/connections";
import type { Principal } from "../auth/principal";
import type { RequestLimits } from "../config";
import type { GraphQLContext } from "./context";
import { socketOperation } from "./socket-operation";
import type { Logger } from "../logger";
import { sendError } from "../http/errors";

/** graphql-sse wants an index signature on its context type. */
type SseContext = GraphQLContext & Record<PropertyKey, unknown>;

export interface GraphqlSseOptions {
  schema: GraphQLSchema;
  limits: RequestLimits;
  authenticate(header: string | undefined): Promise<Principal | null>;
  /** Tracks an open stream with its credential, closed when that is revoked or expires; returns the untracking. */
  track(connection: Closable, credential: unknown): () => void;
  /** The context of one operation, for an authenticated principal. */
  context(principal: Principal, requestId: string): GraphQLContext;
  /** Runs subscriptions (the subscription hub). */
  subscribe(args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  /** Shapes each result's errors as over HTTP (codes, no internals). */
  format(result: ExecutionResult): ExecutionResult;
  logger: Logger;
}

export function graphqlSse(options: GraphqlSseOptions): RequestHandler {
  const { schema, limits } = options;
  const handler = createHandler<SseContext>({
    schema,
    subscribe: options.subscribe,
    onSubscribe: (req, params) => {
      const prepared = socketOperation(schema, limits, {
        query: params.query,
        operationName: params.operationName ?? null,
        variables: params.variables ?? null,
      });
      // graphql-sse takes a result for one only with a `data` key.
      if (Array.isArray(prepared)) return { data: null, errors: prepared };
      // Authenticated by the handler below, before graphql-sse saw the request.
      const principal = req.context.res.locals.principal as Principal;
      const requestId = String(req.context.res.getHeader("x-request-id"));
      return { ...prepared, contextValue: options.context(principal, requestId) as SseContext };
    },
    onNext: (_ctx, _req, result) => options.format(result as ExecutionResult),
  });
  return (req, res, next) => {
    // graphql-sse takes exactly this Accept (its clients send it so); others, such as urql's list
    // that mentions text/event-stream among JSON types, are Apollo's.
    if (req.headers.accept?.trim() !== "text/event-stream") {
      next();
      return;
    }
    void (async () => {
      const principal = await options.authenticate(req.headers.authorization);
      if (principal === null) {
        sendError(
          res,
          401,
          "UNAUTHENTICATED",
          "A valid API token is required: send it as `Authorization: Bearer <token>`.",
        );
        return;
      }
      res.locals.principal = principal;
      // A revoked or expired token ends the stream (auth/connections.ts).
      const forget = options.track({ close: () => res.destroy() }, req.headers.authorization);
      res.once("close", forget);
      await handler(req, res);
    })().catch((error: unknown) => {
      options.logger.error({ err: error }, "GraphQL over SSE failed");
      if (!res.headersSent) sendError(res, 500, "INTERNAL_SERVER_ERROR", "The event stream failed.");
      else res.end();
    });
  };
}
