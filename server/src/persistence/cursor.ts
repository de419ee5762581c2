import { DomainError } from "../domain/errors";

/** Opaque keyset cursors: base64url of a JSON tuple of the sort keys. */
export function encodeCursor(keys: Array<string | number>): string {
  return Buffer.from(JSON.stringify(keys)).toString("base64url");
}

export function decodeCursor<T extends Array<string | number>>(
  cursor: string,
  shape: Array<"string" | "number">,
): T {
  try {
    const keys: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(keys) &&
      keys.length === shape.length &&
      keys.every((key, i) => typeof key === shape[i])
    ) {
      return keys as T;
    }
  } catch {
    // fall through to the error below
  }
  const message = "after is not a cursor returned by this API.";
  throw new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path: "after", message }] });
}
