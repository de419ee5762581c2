/**
 * simulatePolicy: the evaluator's answer for one principal, action and resource, with the deciding
 * statement and a sentence, for people debugging their permissions.
 */
import { compilePrincipal, type PolicyHolder } from "./principal";
import type { Evaluation, StatementRef } from "./evaluator";

export interface Simulation extends Evaluation {
  action: string;
  resource: string;
  explanation: string;
}

export function simulatePolicy(holder: PolicyHolder, action: string, resource: string): Simulation {
  const evaluation = compilePrincipal(holder).evaluate(action, resource);
  return { ...evaluation, action, resource, explanation: explain(evaluation, action, resource) };
}

export function explain({ decision, statement }: Evaluation, action: string, resource: string): string {
  if (decision === "IMPLICIT_DENY" || statement === null) {
    return `Denied: no statement allows ${action} on ${resource} (nothing is allowed unless a policy allows it).`;
  }
  const by = describeStatement(statement);
  return decision === "DENY"
    ? `Denied explicitly by ${by}; an explicit Deny beats every Allow.`
    : `Allowed by ${by}.`;
}

export function describeStatement({ policy, attachedTo, sid, index }: StatementRef): string {
  const which = sid ? `statement ${index} (Sid "${sid}")` : `statement ${index}`;
  return `${which} of policy "${policy}"${attachedTo ? ` attached to ${attachedTo}` : ""}`;
}
