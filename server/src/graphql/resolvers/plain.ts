/**
 * type-graphql hands resolvers class instances with `undefined` for omitted fields; the domain
 * validates plain JSON. This turns an input into the JSON the client sent.
 */
export function toPlainJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** Drops null/undefined members of an object (used for one-of inputs where null means "not this one"). */
export function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}
