/**
 * IAM's two wildcards: `*` matches any run of characters (none included), `?` exactly one; every
 * other character matches itself. Unlike shell globs (picomatch, minimatch), `*` crosses `/`, and
 * there are no classes, braces or escapes: a pattern library would need every one of its features
 * switched off, so the ~20 lines here are the smaller thing to trust.
 */

/** The regex source of a pattern; `star` and `one` say what the wildcards may match. */
export function globSource(pattern: string, star = "[\\s\\S]*", one = "[\\s\\S]"): string {
  // split keeps the wildcards (the capture group) between the literal runs
  return pattern
    .split(/([*?])/)
    .map((part) => (part === "*" ? star : part === "?" ? one : part.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")))
    .join("");
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

/** One anchored regex for a whole pattern. */
export function globRegExp(pattern: string, flags = ""): RegExp {
  return new RegExp(`^${globSource(pattern)}$`, flags);
}
