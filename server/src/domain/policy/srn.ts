/**
 * Sluice resource names (SRN), IAM's ARNs for Sluice: `srn:sluice:<account>:<resource>`.
 *
 * <resource> is one of
 *   pipeline/<name>                                   a pipeline (its document, executions, state)
 *   pipeline/<name>/stage/<stage>                     a stage (retry, rollback, its transition)
 *   pipeline/<name>/stage/<stage>/action/<action>     an action (approval, logs)
 *   webhook/<pipeline>                                a pipeline's webhook
 *   agent/<pool>/<name>                               a registered agent
 *   agent-token, agent-token/<id>                     agent tokens: the collection, one token
 *   action-type/<category>/<owner>/<provider>/<version>
 *   user/<name>, group/<name>, service-account/<name>, role/<name>, policy/<name>
 *   account/<id>                                      an account (tenant); always in the default account's SRNs
 *   audit                                             the audit log
 *   secret/<name>                                     a secret of the secret store
 *
 * Names of pipelines, stages and actions never hold `/` or `:` (pipeline/names.ts), so the form
 * parses back without ambiguity.
 */

export const SRN_PREFIX = "srn:sluice:";

/** An account id: what SRNs carry between `srn:sluice:` and the resource. */
export const ACCOUNT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The installation's first account: what existed before accounts lives in it, and so do the
 * action types, notifications, secrets and the installation itself (identities, policies, roles,
 * pipelines and agents belong to any account). Accounts are managed from it (`account/<id>`).
 */
export const DEFAULT_ACCOUNT = "default";

/**
 * The resource types that belong to an account other than the default one too: a principal's are
 * those of the account it acts in. Pipelines (with their stages, actions, executions, logs and
 * artifacts), their webhooks, agents, agent tokens, secrets and notifications are an account's as identities are. The
 * action type catalogue is the installation's, read from every account (`action-type/…` of the
 * account acting); custom action types are created and deleted in the default account only
 * (operations.ts names those resources in it).
 */
export const ACCOUNT_SCOPED_TYPES: ReadonlySet<string> = new Set([
  "pipeline",
  "webhook",
  "agent",
  "agent-token",
  "action-type",
  "secret",
  "notifications",
  "user",
  "group",
  "service-account",
  "role",
  "policy",
  "audit",
]);

/** The account of an SRN (concrete or not): what is between `srn:sluice:` and the next `:`. */
export function accountOfSrn(value: string): string | null {
  if (!value.startsWith(SRN_PREFIX)) return null;
  const colon = value.indexOf(":", SRN_PREFIX.length);
  return colon < 0 ? null : value.slice(SRN_PREFIX.length, colon);
}

export type SrnResource =
  | { type: "pipeline"; pipeline: string; stage?: string; action?: string }
  | { type: "webhook"; pipeline: string }
  | { type: "agent"; pool: string; name: string }
  | { type: "agent-token"; id?: string }
  | { type: "action-type"; category: string; owner: string; provider: string; version: string }
  | { type: "user" | "group" | "service-account" | "role" | "policy"; name: string }
  | { type: "account"; id: string }
  | { type: "secret"; name: string }
  | { type: "audit" }
  | { type: "notifications" }
  | { type: "installation" };

export type ResourceType = SrnResource["type"];

export const RESOURCE_TYPES: readonly ResourceType[] = [
  "pipeline",
  "webhook",
  "agent",
  "agent-token",
  "action-type",
  "secret",
  "notifications",
  "user",
  "group",
  "service-account",
  "role",
  "policy",
  "account",
  "secret",
  "audit",
  "notifications",
  "installation",
];

export interface Srn {
  account: string;
  resource: SrnResource;
}

/** The `<resource>` part of an SRN. */
export function formatResource(resource: SrnResource): string {
  switch (resource.type) {
    case "pipeline": {
      let path = `pipeline/${resource.pipeline}`;
      if (resource.stage !== undefined) path += `/stage/${resource.stage}`;
      if (resource.stage !== undefined && resource.action !== undefined) path += `/action/${resource.action}`;
      return path;
    }
    case "webhook":
      return `webhook/${resource.pipeline}`;
    case "agent":
      return `agent/${resource.pool}/${resource.name}`;
    case "agent-token":
      return resource.id === undefined ? "agent-token" : `agent-token/${resource.id}`;
    case "action-type":
      return `action-type/${resource.category}/${resource.owner}/${resource.provider}/${resource.version}`;
    case "audit":
    case "notifications":
    case "installation":
      return resource.type;
    case "account":
      return `account/${resource.id}`;
    default:
      return `${resource.type}/${resource.name}`;
  }
}

export function formatSrn(account: string, resource: SrnResource): string {
  return `${SRN_PREFIX}${account}:${formatResource(resource)}`;
}

/** A concrete SRN (no wildcards) → its parts, or null when it is not one. */
export function parseSrn(value: string): Srn | null {
  if (!value.startsWith(SRN_PREFIX)) return null;
  const rest = value.slice(SRN_PREFIX.length);
  const colon = rest.indexOf(":");
  if (colon < 0) return null;
  const account = rest.slice(0, colon);
  const resource = parseResource(rest.slice(colon + 1));
  return ACCOUNT_PATTERN.test(account) && resource ? { account, resource } : null;
}

const PART = /^[^/:*?]+$/;

function parseResource(path: string): SrnResource | null {
  const parts = path.split("/");
  if (!parts.every((p, i) => (i === 0 ? /^[a-z-]+$/.test(p) : PART.test(p)))) return null;
  const [type, ...rest] = parts;
  switch (type) {
    case "pipeline":
      if (rest.length === 1) return { type, pipeline: rest[0]! };
      if (rest.length === 3 && rest[1] === "stage") return { type, pipeline: rest[0]!, stage: rest[2]! };
      if (rest.length === 5 && rest[1] === "stage" && rest[3] === "action") {
        return { type, pipeline: rest[0]!, stage: rest[2]!, action: rest[4]! };
      }
      return null;
    case "webhook":
      return rest.length === 1 ? { type, pipeline: rest[0]! } : null;
    case "agent":
      return rest.length === 2 ? { type, pool: rest[0]!, name: rest[1]! } : null;
    case "agent-token":
      if (rest.length === 0) return { type };
      return rest.length === 1 ? { type, id: rest[0]! } : null;
    case "action-type":
      return rest.length === 4
        ? { type, category: rest[0]!, owner: rest[1]!, provider: rest[2]!, version: rest[3]! }
        : null;
    case "audit":
    case "notifications":
    case "installation":
      return rest.length === 0 ? { type } : null;
    case "account":
      return rest.length === 1 && ACCOUNT_PATTERN.test(rest[0]!) ? { type, id: rest[0]! } : null;
    case "user":
    case "group":
    case "service-account":
    case "role":
    case "policy":
    case "secret":
      return rest.length === 1 ? { type, name: rest[0]! } : null;
    default:
      return null;
  }
}
