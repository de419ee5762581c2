/**
 * PostgreSQL/driver errors that mean "the database is not reachable right now": the one place that
 * says which database failures pass with time. A request answers UNAVAILABLE for them
 * (graphql/errors.ts); the results consumer holds the result and applies it again once the
 * database answers, instead of failing it (messaging/results-consumer.ts).
 */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08006",
]);

export function isUnavailable(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string }; message?: string } | null;
  if (!e) return false;
  const code = e.code ?? e.driverError?.code;
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|Query read timeout|timeout exceeded when trying to connect|canceling statement due to statement timeout/i.test(
    e.message ?? "",
  );
}
