/**
 * What one GraphQL operation may ask, checked after parsing and validation and before anything
 * runs, over HTTP and graphql-ws alike: its shape (depth, aliases, top-level fields, mutations),
 * its estimated cost (complexity.ts; an operation the estimator cannot cost is refused, not let
 * through), and text PostgreSQL cannot store (NUL, lone UTF-16 surrogates) in any string it
 * carries. The token count is bounded earlier, by the parser itself (`maxTokens`).
 */
import {
  getOperationAST,
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { getVariableValues } from "graphql/execution/values";
import type { RequestLimits } from "../config";
import { DomainError, LimitExceededError } from "../domain/errors";
import { isStorable, unstorablePaths } from "../domain/storable-text";
import { costError, operationCost } from "./complexity";

/** Field selections walked (fragments expanded) before an operation is refused as too large to measure. */
const MAX_WALKED_FIELDS = 10_000;

function limitError(message: string, details: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, {
    originalError: new LimitExceededError(message, details),
    extensions: { code: "LIMIT_EXCEEDED", http: { status: 400 } },
  });
}

function unstorableError(paths: string[]): GraphQLError {
  const message =
    `Text cannot hold NUL characters or unpaired UTF-16 surrogates: ${paths.slice(0, 5).join(", ")}` +
    (paths.length > 5 ? ` (and ${paths.length - 5} more)` : "") +
    ".";
  return new GraphQLError(message, {
    originalError: new DomainError("BAD_USER_INPUT", message, {
      validationErrors: paths.map((path) => ({ path, message: "NUL or unpaired surrogate" })),
    }),
    extensions: { code: "BAD_USER_INPUT", http: { status: 400 } },
  });
}

/** String literals of the document that cannot be stored, named by the argument holding them. */
function unstorableLiterals(document: DocumentNode): string[] {
  const found: string[] = [];
  let argument = "";
  visit(document, {
    Argument: { enter: (node) => void (argument = node.name.value) },
    StringValue: (node) => {
      if (!isStorable(node.value))
        found.push(`${argument || "document"} (line ${node.loc?.startToken.line})`);
    },
  });
  return found;
}

/**
 * How deep the document's brackets (`{`, `[`, `(`) nest, read from its tokens before it is
 * parsed: graphql's parser and some validation rules recurse per level and overflow the stack on a
 * document nested a few thousand deep. Allowed: twice the selection depth limit, for arguments and
 * input values. A document that does not lex, or has too many tokens, is left to the parser.
 */
export function nestingError(query: string, limits: RequestLimits): GraphQLError | null {
  const allowed = limits.maxDepth * 2;
  const lexer = new Lexer(new Source(query));
  let depth = 0;
  let deepest = 0;
  try {
    for (let tokens = 0, token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > limits.maxTokens) return null;
      if (OPENING.has(token.kind)) deepest = Math.max(deepest, ++depth);
      else if (CLOSING.has(token.kind)) depth--;
    }
  } catch {
    return null;
  }
  if (deepest <= allowed) return null;
  return limitError(
    `This document nests ${deepest.toLocaleString("en-US")} brackets deep; the limit is ${allowed} (twice SLUICE_MAX_QUERY_DEPTH).`,
    { nesting: deepest, limit: allowed },
  );
}

const OPENING = new Set<string>([TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L]);
const CLOSING = new Set<string>([TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R]);

interface Shape {
  depth: number;
  aliases: number;
  rootFields: number;
  walked: number;
}

/** Depth, aliases and top-level fields of the operation, with fragments expanded (bounded walk). */
function shapeOf(document: DocumentNode, operation: OperationDefinitionNode): Shape {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const shape: Shape = { depth: 0, aliases: 0, rootFields: 0, walked: 0 };
  const walk = (set: SelectionSetNode, depth: number, root: boolean, seen: Set<string>) => {
    for (const selection of set.selections) {
      if (shape.walked > MAX_WALKED_FIELDS) return;
      if (selection.kind === Kind.FIELD) {
        shape.walked++;
        if (selection.alias) shape.aliases++;
        if (root) shape.rootFields++;
        shape.depth = Math.max(shape.depth, depth + 1);
        if (selection.selectionSet) walk(selection.selectionSet, depth + 1, false, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, depth, root, seen);
      } else {
        const fragment = fragments.get(selection.name.value);
        // A cycle is a validation error (reported there); here it only must not loop.
        if (!fragment || seen.has(fragment.name.value)) continue;
        walk(fragment.selectionSet, depth, root, new Set([...seen, fragment.name.value]));
      }
    }
  };
  walk(operation.selectionSet, 0, true, new Set());
  return shape;
}

function shapeErrors(
  operation: OperationDefinitionNode,
  shape: Shape,
  limits: RequestLimits,
): GraphQLError[] {
  if (shape.walked > MAX_WALKED_FIELDS) {
    return [
      limitError(
        `This operation selects more than ${MAX_WALKED_FIELDS.toLocaleString("en-US")} fields (fragments expanded); split it into several requests.`,
        { limit: MAX_WALKED_FIELDS },
      ),
    ];
  }
  const errors: GraphQLError[] = [];
  const check = (key: keyof Shape, limit: number, what: string, variable: string) => {
    const value = shape[key];
    if (value <= limit) return;
    errors.push(
      limitError(
        `This operation has ${value.toLocaleString("en-US")} ${what}; the limit is ${limit.toLocaleString("en-US")} (${variable}).`,
        { [key]: value, limit },
      ),
    );
  };
  check("depth", limits.maxDepth, "levels of nesting", "SLUICE_MAX_QUERY_DEPTH");
  check("aliases", limits.maxAliases, "aliased fields", "SLUICE_MAX_ALIASES");
  if (operation.operation === "mutation") {
    check("rootFields", limits.maxMutations, "mutations", "SLUICE_MAX_MUTATIONS");
  } else {
    check("rootFields", limits.maxRootFields, "top-level fields", "SLUICE_MAX_ROOT_FIELDS");
  }
  return errors;
}

/**
 * The errors that refuse the operation before it runs (none when it may run). Variable coercion
 * errors are left to execution, which reports them with their own message and BAD_USER_INPUT.
 */
export function requestLimitErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: RequestLimits,
): GraphQLError[] {
  const unstorable = [...unstorableLiterals(document), ...unstorablePaths(variables ?? {}, "variables")];
  if (unstorable.length > 0) return [unstorableError(unstorable)];
  const operation = getOperationAST(document, operationName);
  if (!operation) return []; // execution says which operation is missing
  const shaped = shapeErrors(operation, shapeOf(document, operation), limits);
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, {
    maxErrors: 1,
  });
  if (coerced.errors) return shaped;
  // The cost, when it is above the ceiling, answers first: it has the figures that help most.
  let cost: number;
  try {
    cost = operationCost(schema, document, operationName, variables);
  } catch (error) {
    if (shaped.length > 0) return shaped;
    return [
      limitError(
        `This operation's cost cannot be estimated (${(error as Error).message}); ask for fewer fields or split it into several requests.`,
        { limit: limits.maxCost },
      ),
    ];
  }
  const error = costError(cost, limits.maxCost);
  return error ? [error] : shaped;
}
