/**
 * Small helpers for reading untrusted JSON in the AWS interop. AWS documents arrive as `unknown`;
 * these narrow them without trusting any shape.
 */
export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isStringRecord(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((v) => typeof v === "string");
}

export function hasKey(record: JsonRecord, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key);
}

/**
 * A deep copy of a JSON value, so that what the import keeps in awsMetadata (and what the export
 * writes back) shares no objects with the caller's document. Plain recursion rather than
 * structuredClone: values stay plain objects and arrays of this realm.
 */
export function copyJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => copyJson(item)) as T;
  if (isRecord(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copyJson(item)])) as T;
  return value;
}

/** Structural equality of JSON values; key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => jsonEqual(item, b[i]))
    );
  }
  if (isRecord(a) || isRecord(b)) {
    if (!isRecord(a) || !isRecord(b)) return false;
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => hasKey(b, key) && jsonEqual(a[key], b[key]))
    );
  }
  return Object.is(a, b);
}
