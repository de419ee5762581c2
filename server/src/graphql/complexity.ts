/**
 * The cost of an operation, estimated before it runs, and a ceiling on it: one request must not be
 * able to make the server read a million rows (`pipelines(first: 100) { nodes { executions(first:
 * 100) { nodes { stages { actions { attempts … } } } } } }`, or the same field under a thousand
 * aliases). The schema has no cycles, so depth is bounded by the schema itself; the cost bounds
 * breadth. The dashboard's dearest query is a page of 5,000 log lines (cost 5,001).
 */
import {
  getNamedType,
  GraphQLError,
  isLeafType,
  separateOperations,
  type DocumentNode,
  type GraphQLSchema,
} from "graphql";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";
import { LimitExceededError } from "../domain/errors";

/**
 * Scalars and enums are read with their object: free. An object field costs 1 plus its
 * selections; a paginated one (with `first` or `last`) its selections once per item it may
 * return — a connection asked without either at its largest default page (50); `nodes(ids)` once
 * per id.
 */
const estimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (isLeafType(getNamedType(field.type))) return 0;
  const items = Math.max(1, childComplexity);
  if (typeof args.first === "number") return 1 + items * pageSize(args.first);
  if (typeof args.last === "number") return 1 + items * pageSize(args.last);
  if (field.args.some((arg) => arg.name === "last")) return 1 + items * DEFAULT_CONNECTION_PAGE;
  if (Array.isArray(args.ids)) return 1 + items * pageSize(args.ids.length);
  return 1 + childComplexity;
};

/** The largest default page of a connection (auditEvents, notificationDeliveries). */
const DEFAULT_CONNECTION_PAGE = 50;

/**
 * No field serves pages of more than 10,000 items (actionLog; connections stop at 100): a larger
 * `first` is refused by the field itself, with its own message, so it is costed at that size.
 */
const LARGEST_PAGE = 10_000;
const pageSize = (first: number) => Math.min(LARGEST_PAGE, Math.max(1, first));

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): number {
  const query = operationName ? (separateOperations(document)[operationName] ?? document) : document;
  return getComplexity({ schema, query, variables: variables ?? {}, estimators: [estimator] });
}

/** The error for an operation above the ceiling (HTTP 400, LIMIT_EXCEEDED), or null. */
export function costError(cost: number, limit: number): GraphQLError | null {
  if (cost <= limit) return null;
  const message =
    `This operation would cost ${cost.toLocaleString("en-US")}; the limit is ${limit.toLocaleString("en-US")} (SLUICE_MAX_QUERY_COST). ` +
    "Ask for fewer items per page (`first`), fewer fields, or split it into several requests.";
  return new GraphQLError(message, {
    originalError: new LimitExceededError(message, { cost, limit }),
    extensions: { code: "LIMIT_EXCEEDED", http: { status: 400 } },
  });
}
