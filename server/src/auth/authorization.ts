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
 */
import {
  actionFor,
  formatSrn,
  parseSrn,
  resolveResource,
  type ActionName,
  type OperationPermission,
  type ResourceLookups,
  type ResourceType,
} from "../domain/policy";
import { DEFAULT_ACCOUNT, type Principal } from "./principal";

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
  const resolved = await resolveResource(spec, args, DEFAULT_ACCOUNT, lookups);
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
  if (principal.policies.isAllowed(action, resolved.srn)) return { ok: true, action, resource: resolved };
  if (byId && !mayReadPipelineOf(principal, resolved.srn)) {
    const id = args[spec.arg];
    const what = { execution: "execution", actionExecution: "action execution", apiToken: "API token" }[
      spec.kind
    ];
    return { ok: false, code: "NOT_FOUND", message: `No ${what} ${JSON.stringify(id)} exists.` };
  }
  return { ok: false, code: "FORBIDDEN", message: `You are not allowed ${action} on ${resolved.srn}.` };
}

/** Whether the principal may see that the pipeline of `srn` exists (sluice:GetPipeline on it). */
function mayReadPipelineOf(principal: Principal, srn: string): boolean {
  const parsed = parseSrn(srn);
  if (!parsed || parsed.resource.type !== "pipeline") return false;
  return principal.policies.isAllowed(
    "sluice:GetPipeline",
    formatSrn(parsed.account, { type: "pipeline", pipeline: parsed.resource.pipeline }),
  );
}

/** The SRN of an item of a list, for filtering `each` lists and streams. */
export const srnOf = {
  pipeline: (name: string) => formatSrn(DEFAULT_ACCOUNT, { type: "pipeline", pipeline: name }),
  agent: (pool: string, name: string) => formatSrn(DEFAULT_ACCOUNT, { type: "agent", pool, name }),
  actionType: (id: { category: string; owner: string; provider: string; version: string }) =>
    formatSrn(DEFAULT_ACCOUNT, { type: "action-type", ...id }),
};

/** The items of a list the principal may `action` (each on its own SRN). */
export function visibleItems<T>(
  principal: Principal | null,
  action: ActionName,
  items: Iterable<T>,
  srn: (item: T) => string,
): T[] {
  return principal ? principal.policies.allowedItems(action, items, srn) : [];
}
