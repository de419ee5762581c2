/**
 * A statement's Resource patterns: `*` (everything) or `srn:sluice:<account>:<resource>` with IAM's
 * wildcards. As in IAM, a wildcard in the account matches within the account only (it does not
 * cross `:`); in the resource, `*` crosses `/`: `pipeline/web/*` covers web's stages and actions,
 * but not `pipeline/web` itself (name both), and `pipeline/web*` also covers `pipeline/webshop`.
 * Matching is case-sensitive.
 */
import { globSource, hasWildcard } from "./glob";
import { RESOURCE_TYPES, SRN_PREFIX } from "./srn";

const ACCOUNT_PATTERN_CHARS = /^[A-Za-z0-9_*?-]{1,64}$/;

/** A sentence saying what is wrong with a Resource pattern, or null when it is valid. */
export function resourcePatternProblem(pattern: string): string | null {
  if (pattern === "*") return null;
  const shape = `must be "*" or "${SRN_PREFIX}<account>:<resource>"`;
  if (!pattern.startsWith(SRN_PREFIX)) return `A resource ${shape}; got ${JSON.stringify(pattern)}.`;
  const rest = pattern.slice(SRN_PREFIX.length);
  const colon = rest.indexOf(":");
  if (colon < 0) return `A resource ${shape}: ${JSON.stringify(pattern)} has no account.`;
  const account = rest.slice(0, colon);
  const resource = rest.slice(colon + 1);
  if (!ACCOUNT_PATTERN_CHARS.test(account)) {
    return `The account of ${JSON.stringify(pattern)} must be 1–64 letters, digits, _ or - (or wildcards).`;
  }
  if (resource.length === 0) return `A resource ${shape}: ${JSON.stringify(pattern)} names no resource.`;
  const type = resource.split("/")[0]!;
  if (!hasWildcard(type) && !(RESOURCE_TYPES as readonly string[]).includes(type)) {
    return `Unknown resource type ${JSON.stringify(type)} in ${JSON.stringify(pattern)}; the types are ${RESOURCE_TYPES.join(", ")}.`;
  }
  return null;
}

/** The regex source (unanchored) of one valid pattern. */
export function resourcePatternSource(pattern: string): string {
  if (pattern === "*") return "[\\s\\S]*";
  const rest = pattern.slice(SRN_PREFIX.length);
  const colon = rest.indexOf(":");
  return (
    globSource(SRN_PREFIX) +
    globSource(rest.slice(0, colon), "[^:]*", "[^:]") +
    ":" +
    globSource(rest.slice(colon + 1))
  );
}

export type ResourcePredicate = (resource: string) => boolean;

/**
 * One predicate for a list of patterns (true when any matches), the cheapest that is exact: `*`
 * answers at once, names compare by equality, `…/*` (one trailing star, the commonest wildcard) by
 * prefix, and only the rest go through one regex (V8 compiles a regex on its first use, tens of µs).
 */
export function compileResourcePatterns(patterns: readonly string[]): ResourcePredicate {
  if (patterns.includes("*")) return () => true;
  const literals = new Set<string>();
  const prefixes: string[] = [];
  const globs: string[] = [];
  for (const pattern of patterns) {
    if (!hasWildcard(pattern)) literals.add(pattern);
    else if (isPrefixPattern(pattern)) prefixes.push(pattern.slice(0, -1));
    else globs.push(pattern);
  }
  const regex = globs.length > 0 ? new RegExp(`^(?:${globs.map(resourcePatternSource).join("|")})$`) : null;
  if (!regex && prefixes.length === 0) {
    if (literals.size === 1) {
      const [only] = literals;
      return (resource) => resource === only;
    }
    return (resource) => literals.has(resource);
  }
  return (resource) =>
    literals.has(resource) ||
    prefixes.some((p) => resource.startsWith(p)) ||
    (regex?.test(resource) ?? false);
}

/**
 * `srn:sluice:acct1:pipeline/web/*`: the only wildcard is a star at the end, after the account
 * (a star there would stop at `:`), so it is a prefix test.
 */
function isPrefixPattern(pattern: string): boolean {
  const body = pattern.slice(0, -1);
  return pattern.endsWith("*") && !hasWildcard(body) && body.indexOf(":", SRN_PREFIX.length) >= 0;
}
