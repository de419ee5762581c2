import { DomainError } from "../domain/errors";

/** Opaque keyset cursors: base64url of a JSON tuple of the sort keys. */
export function encodeCursor(keys: Array<string | number>): string {
  return Buffer.from(JSON.stringify(keys)).toString("base64url");
}

/** What a cursor key must be: `time` an ISO 8601 UTC timestamp, `uuid` a UUID, `digits` a bigint as text. */
export type CursorKey = "string" | "number" | "time" | "uuid" | "digits";

const KEY_CHECKS: Record<CursorKey, (key: unknown) => boolean> = {
  string: (key) => typeof key === "string" && key.length <= 200,
  number: (key) => typeof key === "number" && Number.isSafeInteger(key),
  time: (key) =>
    typeof key === "string" &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(key) &&
    !isNaN(Date.parse(key)),
  digits: (key) => typeof key === "string" && /^\d{1,18}$/.test(key),
  uuid: (key) =>
    typeof key === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(key),
};

/** The keys of a cursor; BAD_USER_INPUT at `path` (the argument: after, before) for any other string. */
export function decodeCursor<T extends Array<string | number>>(
  cursor: string,
  shape: CursorKey[],
  path = "after",
): T {
  try {
    const keys: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(keys) &&
      keys.length === shape.length &&
      keys.every((key, i) => KEY_CHECKS[shape[i]!](key))
    ) {
      return keys as T;
    }
  } catch {
    // fall through to the error below
  }
  const message = `${path} is not a cursor returned by this API.`;
  throw new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path, message }] });
}

/**
 * One page of a keyset-paged list, as the stores read it: `size + 1` rows from `cursor` on, in
 * the list's order (forward: rows after the cursor) or against it (backward: rows before the
 * cursor, nearest first). The GraphQL layer turns `first/after/last/before` into this.
 */
export interface PageQuery {
  size: number;
  cursor: string | null;
  backward: boolean;
}

/** The argument a page's cursor came from, for its error path. */
export const cursorArgument = (page: PageQuery): string => (page.backward ? "before" : "after");

/**
 * A timestamptz column as text to the microsecond, for cursors: a JavaScript Date keeps
 * milliseconds only, and a cursor rounded down would repeat or skip rows of the same millisecond.
 */
export const exactTime = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
