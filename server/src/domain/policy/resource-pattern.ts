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
 * One predicate for a list of patterns (true when any matches), the cheapest that is exact:
 * `*` answers at once, literal names compare by equality, the rest go through one regex.
 */
export function compileResourcePatterns(patterns: readonly string[]): ResourcePredicate {
  if (patterns.includes("*")) return () => true;
  const literals = patterns.filter((p) => !hasWildcard(p));
  const globs = patterns.filter((p) => hasWildcard(p));
  if (globs.length === 0) {
    if (literals.length === 1) {
      const only = literals[0]!;
      return (resource) => resource === only;
    }
    const set = new Set(literals);
    return (resource) => set.has(resource);
  }
  const regex = new RegExp(`^(?:${globs.map(resourcePatternSource).join("|")})$`);
  if (literals.length === 0) return (resource) => regex.test(resource);
  const set = new Set(literals);
  return (resource) => set.has(resource) || regex.test(resource);
}
