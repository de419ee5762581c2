/**
 * A statement's Action patterns: `*` or `sluice:<name>` with IAM's wildcards, matched
 * case-insensitively as IAM matches actions (`sluice:getpipeline` is `sluice:GetPipeline`).
 */
import { ACTION_NAMES, ACTION_PREFIX, type ActionName } from "./actions";
import { globRegExp } from "./glob";

export function actionPatternRegExp(pattern: string): RegExp {
  return globRegExp(pattern, "i");
}

/** The catalogued actions a pattern matches. */
export function actionsMatching(pattern: string): ActionName[] {
  const regex = actionPatternRegExp(pattern);
  return ACTION_NAMES.filter((name) => regex.test(name));
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
