/**
 * A reference evaluator for property tests: IAM's rules transcribed directly, with no compilation,
 * no index and no regexes. Every statement of every policy is looked at for every request.
 */
import type { NamedPolicy } from "../document";
import type { Evaluation, StatementRef } from "../evaluator";

/** IAM's wildcards by recursion: `*` any run (none included), `?` one character. */
export function globMatches(pattern: string, value: string): boolean {
  if (pattern === "") return value === "";
  const [head, rest] = [pattern[0], pattern.slice(1)];
  if (head === "*") {
    for (let i = 0; i <= value.length; i++) if (globMatches(rest, value.slice(i))) return true;
    return false;
  }
  if (value === "") return false;
  return (head === "?" || head === value[0]) && globMatches(rest, value.slice(1));
}

/** `srn:sluice:<account>:<resource>` → its three parts (the resource may hold colons). */
function parts(srn: string): [string, string, string] | null {
  const fields = srn.split(":");
  if (fields.length < 4 || fields[0] !== "srn" || fields[1] !== "sluice") return null;
  return [fields[2]!, fields.slice(3).join(":"), ""];
}

export function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern === "*") return true;
  const p = parts(pattern);
  const r = parts(resource);
  if (!p || !r) return false;
  // the account is matched on its own (a wildcard there does not cross `:`), then the resource
  return globMatches(p[0], r[0]) && globMatches(p[1], r[1]);
}

export function actionMatches(pattern: string, action: string): boolean {
  return globMatches(pattern.toLowerCase(), action.toLowerCase());
}

export function referenceEvaluate(
  policies: readonly (NamedPolicy & { attachedTo?: string })[],
  action: string,
  resource: string,
): Evaluation {
  const denies: StatementRef[] = [];
  const allows: StatementRef[] = [];
  for (const policy of policies) {
    policy.document.Statement.forEach((statement, index) => {
      const actionHit = statement.Action
        ? statement.Action.some((p) => actionMatches(p, action))
        : !statement.NotAction!.some((p) => actionMatches(p, action));
      const resourceHit = statement.Resource
        ? statement.Resource.some((p) => resourceMatches(p, resource))
        : !statement.NotResource!.some((p) => resourceMatches(p, resource));
      if (!actionHit || !resourceHit) return;
      const ref = {
        policy: policy.name,
        attachedTo: policy.attachedTo ?? null,
        sid: statement.Sid ?? null,
        index,
      };
      (statement.Effect === "Deny" ? denies : allows).push(ref);
    });
  }
  if (denies.length > 0) return { decision: "DENY", statement: denies[0]! };
  if (allows.length > 0) return { decision: "ALLOW", statement: allows[0]! };
  return { decision: "IMPLICIT_DENY", statement: null };
}
