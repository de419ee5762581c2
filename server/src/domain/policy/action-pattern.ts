/**
 * A statement's Action patterns: `*` or `sluice:<name>` with IAM's wildcards, matched
 * case-insensitively as IAM matches actions (`sluice:getpipeline` is `sluice:GetPipeline`).
 */
import { ACTION_NAMES, ACTION_PREFIX, type ActionName } from "./actions";
import { globRegExp, hasWildcard } from "./glob";

export function actionPatternRegExp(pattern: string): RegExp {
  return globRegExp(pattern, "i");
}

const CANONICAL = new Map<string, ActionName>(ACTION_NAMES.map((name) => [name.toLowerCase(), name]));

/** The catalogued action a name stands for, whatever its case (IAM's names are case-insensitive). */
export function canonicalAction(name: string): ActionName | undefined {
  return CANONICAL.get(name.toLowerCase());
}

/**
 * Wildcard patterns recur across policies (`sluice:Get*`), and the catalogue never changes: their
 * matches are kept, up to a bound so that stored policies cannot grow the cache without end.
 */
const matchesOfPattern = new Map<string, readonly ActionName[]>();
const MAX_CACHED_PATTERNS = 10_000;

/** The catalogued actions a pattern matches. */
export function actionsMatching(pattern: string): readonly ActionName[] {
  if (!hasWildcard(pattern)) {
    const name = canonicalAction(pattern);
    return name ? [name] : [];
  }
  let matches = matchesOfPattern.get(pattern);
  if (!matches) {
    const regex = actionPatternRegExp(pattern);
    matches = ACTION_NAMES.filter((name) => regex.test(name));
    if (matchesOfPattern.size >= MAX_CACHED_PATTERNS) matchesOfPattern.clear();
    matchesOfPattern.set(pattern, matches);
  }
  return matches;
}

/** A sentence saying what is wrong with an Action pattern, or null when it is valid. */
export function actionPatternProblem(pattern: string): string | null {
  if (pattern === "*") return null;
  if (!pattern.toLowerCase().startsWith(ACTION_PREFIX) || pattern.length === ACTION_PREFIX.length) {
    return `An action must be "*" or "${ACTION_PREFIX}<Name>" (wildcards * and ? allowed); got ${JSON.stringify(pattern)}.`;
  }
  if (!/^[A-Za-z*?]+$/.test(pattern.slice(ACTION_PREFIX.length))) {
    return `An action name has only letters and the wildcards * and ?; got ${JSON.stringify(pattern)}.`;
  }
  if (actionsMatching(pattern).length === 0) {
    return `${JSON.stringify(pattern)} matches no Sluice action (docs/policies.md lists them).`;
  }
  return null;
}
