/**
 * Counts the statements the server sends to PostgreSQL (node-postgres is its only driver) on behalf
 * of GraphQL operations: while counting, a statement whose call stack (async frames included)
 * passes through the GraphQL layer (server/src/graphql: resolvers, the checker, the hub, the
 * execution stream) or graphql-js. The server's own background work (agent liveness, timers, the
 * relay) is not counted.
 */
import pg from "pg";
import type { DataSource } from "typeorm";

export interface StatementCounter {
  /** The statements' texts since the last `start`. */
  readonly statements: string[];
  /** Forgets what was counted and counts from now. */
  start(): void;
  /** Stops counting; returns what was counted. */
  stop(): string[];
  /** Stops counting for good: node-postgres's own `query` again. */
  uninstall(): void;
}

export function countGraphQLStatements(): StatementCounter {
  const statements: string[] = [];
  let counting = false;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  (pg.Client.prototype as { query: unknown }).query = function (this: pg.Client, ...args: unknown[]) {
    if (counting) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 200;
      const stack = new Error().stack ?? "";
      Error.stackTraceLimit = limit;
      if (/[/\\]src[/\\]graphql[/\\]|[/\\]graphql[/\\]execution[/\\]/.test(stack)) {
        const first = args[0] as string | { text?: string };
        statements.push(typeof first === "string" ? first : (first?.text ?? "?"));
      }
    }
    return query.apply(this, args);
  };
  return {
    statements,
    start() {
      statements.length = 0;
      counting = true;
    },
    stop() {
      counting = false;
      return [...statements];
    },
    uninstall() {
      counting = false;
      (pg.Client.prototype as { query: unknown }).query = query;
    },
  };
}

/** The DataSource with its `query` calls counted: the statements a store sends outside a transaction. */
export function countingQueries(db: DataSource): { db: DataSource; count: () => number } {
  let statements = 0;
  const counted = new Proxy(db, {
    get(target, property) {
      if (property === "query")
        return (...args: Parameters<DataSource["query"]>) => {
          statements += 1;
          return target.query(...args);
        };
      return Reflect.get(target, property, target);
    },
  });
  return { db: counted, count: () => statements };
}
