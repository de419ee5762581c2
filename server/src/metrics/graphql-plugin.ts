import type { ApolloServerPlugin } from "@apollo/server";
import type { ServerMetrics } from "./server-metrics";

/** What a GraphQL request over HTTP was, for its request log line and the metrics. */
export interface OperationRecord {
  operation?: string;
  type?: string;
  /** "ok", or the first error's extensions.code. */
  outcome?: string;
  /** The caller's principal id (`user/alice`), when it authenticated. */
  principal?: string;
}

/** The key under which the HTTP context carries the request's OperationRecord (res.locals too). */
export const OPERATION_RECORD = Symbol("operationRecord");

export type OperationContext = { [OPERATION_RECORD]?: OperationRecord };

/**
 * Times each operation by name, type and outcome (unless metrics are off: null), and fills the
 * request's OperationRecord (for its log line, metrics or not).
 */
export function operationPlugin<T extends object>(metrics: ServerMetrics | null): ApolloServerPlugin<T> {
  return {
    async requestDidStart({ contextValue }) {
      const end = metrics?.graphqlDuration.startTimer();
      return {
        async willSendResponse({ request, operation, errors, response }) {
          const bodyErrors = response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          // The formatted errors carry the codes clients see (a raw error may keep it in originalError).
          const first = bodyErrors[0] ?? errors?.[0];
          const code = first?.extensions?.code;
          const record: OperationRecord = {
            operation: operation?.name?.value ?? request.operationName ?? undefined,
            type: operation?.operation ?? "unknown",
            outcome: first ? (typeof code === "string" ? code : "INTERNAL_SERVER_ERROR") : "ok",
          };
          const principal = (contextValue as { principal?: { id?: unknown } | null }).principal?.id;
          if (typeof principal === "string") record.principal = principal;
          Object.assign((contextValue as OperationContext)[OPERATION_RECORD] ?? {}, record);
          if (metrics && end) {
            end({
              operation: metrics.operationLabel(record.operation),
              type: record.type,
              outcome: record.outcome,
            });
          }
        },
      };
    },
  };
}
