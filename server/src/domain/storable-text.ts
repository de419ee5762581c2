/**
 * Text PostgreSQL cannot store: a NUL (refused in text and jsonb) or a UTF-16 surrogate without
 * its pair (JSON.stringify writes it as a `\ud800` escape, which jsonb refuses). Request input
 * holding either is refused as the client's error; the audit log replaces it.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE = new RegExp(String.raw`\x00|${LONE_SURROGATE.source}`, "g");

export function isStorable(text: string): boolean {
  return !text.includes("\u0000") && !LONE_SURROGATE.test(text);
}

/** The text with what cannot be stored replaced by U+FFFD. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, "\uFFFD");
}

/** Paths (`variables.input.stages[0].name`) of strings, keys included, that cannot be stored (at most 50). */
export function unstorablePaths(value: unknown, path: string, found: string[] = []): string[] {
  if (found.length >= 50) return found;
  if (typeof value === "string") {
    if (!isStorable(value)) found.push(path);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => unstorablePaths(item, `${path}[${i}]`, found));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorable(key)) found.push(`${path} (a key)`);
      unstorablePaths(item, `${path}.${key}`, found);
    }
  }
  return found;
}
