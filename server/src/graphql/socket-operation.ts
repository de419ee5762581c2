/**
 * A graphql-ws `subscribe` message made ready to run, or the errors that refuse it. graphql-ws
 * parses on its own otherwise, and a syntax error thrown there closes the whole socket (4500);
 * here it errors the one operation, like validation and the request limits (limits.ts) do.
 */
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql";
import type { RequestLimits } from "../config";
import { nestingError, requestLimitErrors } from "./limits";

export interface SocketPayload {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

export function socketOperation(
  schema: GraphQLSchema,
  limits: RequestLimits,
  payload: SocketPayload,
):
  | GraphQLError[]
  | {
      schema: GraphQLSchema;
      document: DocumentNode;
      operationName: string | null | undefined;
      variableValues: Record<string, unknown> | null | undefined;
    } {
  const tooDeep = nestingError(payload.query, limits);
  if (tooDeep) return [tooDeep];
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: limits.maxTokens });
  } catch (error) {
    if (error instanceof GraphQLError) {
      const { source, positions } = error;
      return [
        new GraphQLError(error.message, { source, positions, extensions: { code: "GRAPHQL_PARSE_FAILED" } }),
      ];
    }
    throw error;
  }
  const invalid = validate(schema, document);
  if (invalid.length > 0) {
    return invalid.map(
      (e) =>
        new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }),
    );
  }
  const refused = requestLimitErrors(schema, document, payload.operationName, payload.variables, limits);
  if (refused.length > 0) return refused;
  return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
}
