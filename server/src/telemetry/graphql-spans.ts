import type { RequestHandler } from "express";
import type { OperationRecord } from "../metrics/graphql-plugin";
import { context, SpanKind, SpanStatusCode, trace, tracer } from "./tracing";

/**
 * A span per GraphQL operation over HTTP, active while Apollo runs it (so the engine transaction
 * it causes is its child). Named `<type> <name>` (`mutation releaseChange`) once operationPlugin
 * filled the request's OperationRecord; attributes: operation type and name, principal id, outcome
 * code. Never the document, the variables or a header.
 */
export function graphqlSpans(): RequestHandler {
  return (req, res, next) => {
    const span = tracer.startSpan("graphql", {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": req.method },
    });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const operation = res.locals.operation as OperationRecord | undefined;
      const type = operation?.type ?? "unknown";
      const outcome = operation?.outcome ?? (res.statusCode < 400 ? "ok" : `http_${res.statusCode}`);
      span.updateName(operation?.operation ? `${type} ${operation.operation}` : type);
      span.setAttributes({
        "graphql.operation.type": type,
        ...(operation?.operation ? { "graphql.operation.name": operation.operation } : {}),
        ...(operation?.principal ? { "sluice.principal.id": operation.principal } : {}),
        "sluice.outcome": outcome,
        "http.response.status_code": res.statusCode,
      });
      if (outcome !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      span.end();
    };
    res.once("finish", end);
    res.once("close", end);
    context.with(trace.setSpan(context.active(), span), next);
  };
}
