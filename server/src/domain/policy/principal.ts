/**
 * Which policies apply to a principal. Users and service accounts: the policies attached to them,
 * then their groups' (in the order given). A role session (after assumeRole) acts as the role, as
 * in IAM: the role's policies only, not those of whoever assumed it.
 */
import type { NamedPolicy } from "./document";
import { compilePolicies, type CompiledPolicies, type SourcedPolicy } from "./evaluator";

export type PolicyHolder =
  | {
      kind: "user" | "service-account";
      name: string;
      policies: readonly NamedPolicy[];
      groups: readonly { name: string; policies: readonly NamedPolicy[] }[];
    }
  | { kind: "role-session"; role: string; policies: readonly NamedPolicy[] };

export function effectivePolicies(holder: PolicyHolder): SourcedPolicy[] {
  if (holder.kind === "role-session") {
    return holder.policies.map((p) => ({ ...p, attachedTo: `role/${holder.role}` }));
  }
  return [
    ...holder.policies.map((p) => ({ ...p, attachedTo: `${holder.kind}/${holder.name}` })),
    ...holder.groups.flatMap((group) =>
      group.policies.map((p) => ({ ...p, attachedTo: `group/${group.name}` })),
    ),
  ];
}

/** What the checker keeps per principal (and rebuilds when an attachment or a policy changes). */
export function compilePrincipal(holder: PolicyHolder): CompiledPolicies {
  return compilePolicies(effectivePolicies(holder));
}
