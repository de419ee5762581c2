/**
 * The one authorization check, for GraphQL (graphql/auth-checker.ts) and the HTTP routes
 * (http/authorize.ts) alike: an operation's action and resource (domain/policy/operations.ts)
 * against the principal's compiled policies.
 *
 * Existence does not leak: an operation that names an execution or an action execution by id
 * answers NOT_FOUND, with the same message, both for an unknown id and for one in a pipeline the
 * caller may not read (sluice:GetPipeline); FORBIDDEN (naming the action and the resource) only
 * when the caller may read the pipeline. Operations that name their resource (a pipeline, a
 * stage) are decided without looking it up, so their answer is the same whether it exists or not.
 *
 * Accounts: a principal's policies grant only within the account it acts in (its own, or the
 * assumed role's): a resource of another account is refused whatever they say. The one exception
 * is sluice:AssumeRole, decided by the role's trust policy (and, across accounts or when only the
 * caller's account is trusted, by the caller's own policies too: decideAssumeRole); an unknown
 * role and an untrusted caller get the same answer.
 */
import {
  ACCOUNT_SCOPED_TYPES,
  accountOfSrn,
  actionFor,
  argumentsOf,
  decideAssumeRole,
  nodePermissions,
  type NodeTypeName,
  formatSrn,
  parseSrn,
  resolveResource,
  type ActionName,
  type OperationPermission,
  type ResourceLookups,
  type ResourceType,
  type SrnResource,
} from "../domain/policy";
import { actingAccount, DEFAULT_ACCOUNT, homeAccount, type Principal } from "./principal";

/** The account a resource of this type belongs to, for this principal (see srn.ts). */
export const accountFor =
  (principal: Principal) =>
  (type: string): string =>
    ACCOUNT_SCOPED_TYPES.has(type) ? actingAccount(principal) : DEFAULT_ACCOUNT;

export type AuthorizationResult =
  | {
      ok: true;
      action: ActionName;
      resource:
        | { kind: "one"; srn: string }
        | { kind: "each"; of: ResourceType }
        | { kind: "caller" }
        | { kind: "public" };
    }
  | { ok: false; code: "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT"; message: string };

export async function authorize(
  principal: Principal,
  permission: OperationPermission,
  args: Record<string, unknown>,
  lookups: ResourceLookups,
): Promise<AuthorizationResult> {
  const action = actionFor(permission, args);
  const spec = permission.resource;
  // A mutation of GitHub's style names its resource in the fields of `input`.
  const values = argumentsOf(permission, args);
  const resolved = await resolveResource(spec, values, accountFor(principal), lookups);
  const byId = spec.kind === "execution" || spec.kind === "actionExecution" || spec.kind === "apiToken";
  if (resolved.kind === "unresolved") {
    return { ok: false, code: byId ? "NOT_FOUND" : "BAD_USER_INPUT", message: resolved.reason };
  }
  if (resolved.kind === "caller" || resolved.kind === "public")
    return { ok: true, action, resource: resolved };
  if (resolved.kind === "each") {
    if (principal.policies.mayAllowAny(action)) return { ok: true, action, resource: resolved };
    return { ok: false, code: "FORBIDDEN", message: `You are not allowed ${action} on any resource.` };
  }
  if (action === "sluice:AssumeRole") {
    return (await mayAssumeRole(principal, resolved.srn, lookups))
      ? { ok: true, action, resource: resolved }
      : { ok: false, code: "FORBIDDEN", message: `You are not allowed ${action} on ${resolved.srn}.` };
  }
  const inAccount = accountOfSrn(resolved.srn) === actingAccount(principal);
  if (inAccount && principal.policies.isAllowed(action, resolved.srn)) {
    return { ok: true, action, resource: resolved };
  }
  if (byId && !mayReadPipelineOf(principal, resolved.srn)) {
    const id = values[spec.arg];
    const what = { execution: "execution", actionExecution: "action execution", apiToken: "API token" }[
      spec.kind
    ];
    return { ok: false, code: "NOT_FOUND", message: `No ${what} ${JSON.stringify(id)} exists.` };
  }
  return { ok: false, code: "FORBIDDEN", message: `You are not allowed ${action} on ${resolved.srn}.` };
}

/**
 * Whether the role's trust policy lets the principal assume it. Only users and service accounts
 * acting as themselves may: a role session cannot assume another role (no chaining).
 */
async function mayAssumeRole(
  principal: Principal,
  roleSrn: string,
  lookups: ResourceLookups,
): Promise<boolean> {
  if (principal.assumedRole || (principal.kind !== "user" && principal.kind !== "service-account")) {
    return false;
  }
  const role = parseSrn(roleSrn);
  if (!role || role.resource.type !== "role") return false;
  const trust = await lookups.trustPolicyOfRole(role.account, role.resource.name);
  if (!trust) return false;
  const home = homeAccount(principal);
  return decideAssumeRole(trust, roleSrn, {
    srn: formatSrn(home, { type: principal.kind, name: principal.name }),
    groups: (principal.groups ?? []).map((name) => formatSrn(home, { type: "group", name })),
    policies: principal.policies,
  }).allowed;
}

/**
 * The same decision for what a mutation does beyond its own operation: the saving principal of a
 * pipeline whose configuration references `{{resolve:secret:NAME}}` needs sluice:GetSecretValue on
 * `secret/NAME` (engine/secret-references.ts).
 */
export function authorizeAction(
  principal: Principal,
  action: ActionName,
  resource: SrnResource,
): AuthorizationResult {
  const srn = formatSrn(accountFor(principal)(resource.type), resource);
  // Like authorize(): only in the account the principal acts in.
  const inAccount = accountOfSrn(srn) === actingAccount(principal);
  if (inAccount && principal.policies.isAllowed(action, srn)) {
    return { ok: true, action, resource: { kind: "one", srn } };
  }
  return { ok: false, code: "FORBIDDEN", message: `You are not allowed ${action} on ${srn}.` };
}

/**
 * Whether the principal may read a node (Query.node, Query.nodes) of this type, decided on the
 * loaded object by its type's entry in nodePermissions. false for every refusal: the caller gets
 * the answer of an unknown id.
 */
export async function mayReadNode(
  principal: Principal | null,
  type: NodeTypeName,
  node: object,
  lookups: ResourceLookups,
): Promise<boolean> {
  if (!principal) return false;
  return (await authorize(principal, nodePermissions[type], node as Record<string, unknown>, lookups)).ok;
}

/** Whether the principal may see that the pipeline of `srn` exists (sluice:GetPipeline on it). */
function mayReadPipelineOf(principal: Principal, srn: string): boolean {
  const parsed = parseSrn(srn);
  if (!parsed || parsed.resource.type !== "pipeline" || parsed.account !== actingAccount(principal)) {
    return false;
  }
  return principal.policies.isAllowed(
    "sluice:GetPipeline",
    formatSrn(parsed.account, { type: "pipeline", pipeline: parsed.resource.pipeline }),
  );
}

/**
 * The SRN of an item of a list, for filtering `each` lists and streams. Pipelines and agents carry
 * their account: visibleItems drops another account's whatever the policies say.
 */
export const srnOf = {
  pipeline: (account: string, name: string) => formatSrn(account, { type: "pipeline", pipeline: name }),
  agent: (account: string, pool: string, name: string) => formatSrn(account, { type: "agent", pool, name }),
  /** The catalogue is read from every account: an action type as the account acting sees it. */
  actionType: (account: string, id: { category: string; owner: string; provider: string; version: string }) =>
    formatSrn(account, { type: "action-type", ...id }),
  secret: (account: string, name: string) => formatSrn(account, { type: "secret", name }),
};

/** The items of a list the principal may `action` (each on its own SRN, in the account it acts in). */
export function visibleItems<T>(
  principal: Principal | null,
  action: ActionName,
  items: Iterable<T>,
  srn: (item: T) => string,
): T[] {
  if (!principal) return [];
  const account = actingAccount(principal);
  // Another account's resources: never, whatever the policies say.
  const inAccount = [...items].filter((item) => accountOfSrn(srn(item)) === account);
  return principal.policies.allowedItems(action, inAccount, srn);
}
