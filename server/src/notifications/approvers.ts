import {
  compilePrincipal,
  formatSrn,
  MANAGED_POLICIES,
  type NamedPolicy,
  type PolicyDocument,
} from "../domain/policy";
import type { UserWithPolicies } from "../persistence/notification-store";

/** What an approver needs to be allowed on the approval action's SRN. */
export const APPROVE_ACTION = "sluice:PutApprovalResult";

/** `srn:sluice:<account>:pipeline/<p>/stage/<s>/action/<a>`: what putApprovalResult is decided on. */
export function approvalSrn(account: string, pipeline: string, stage: string, action: string): string {
  return formatSrn(account, { type: "pipeline", pipeline, stage, action });
}

function named(policies: UserWithPolicies["policies"]): NamedPolicy[] {
  const result: NamedPolicy[] = [];
  for (const { name, document } of policies) {
    const managed = Object.hasOwn(MANAGED_POLICIES, name)
      ? MANAGED_POLICIES[name as keyof typeof MANAGED_POLICIES]
      : null;
    const text = managed ?? (document as PolicyDocument | null);
    if (text) result.push({ name, document: text });
  }
  return result;
}

/**
 * The users among `users` (those with an e-mail address) whom the one checker would let approve
 * the action at `srn`: their policies and their groups', evaluated by the same evaluator as
 * putApprovalResult (an explicit Deny wins). Users without the permission are left out.
 */
export function approversOf(users: UserWithPolicies[], srn: string): Array<{ name: string; email: string }> {
  return users
    .filter((user) =>
      compilePrincipal({
        kind: "user",
        name: user.name,
        policies: named(user.policies),
        groups: user.groups.map((group) => ({ name: group.name, policies: named(group.policies) })),
      }).isAllowed(APPROVE_ACTION, srn),
    )
    .map((user) => ({ name: user.name, email: user.email }));
}
