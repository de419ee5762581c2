/**
 * Records keyed by user-chosen names (stages, namespaces, artifacts, variables). Names such as
 * `__proto__` are valid, so reads check for an own key and writes define the property instead of
 * assigning it (an assignment to `__proto__` would change the object's prototype).
 */

export function own<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
