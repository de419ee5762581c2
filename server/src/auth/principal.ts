/** Who makes a request. The security issue adds users and agents with policies. */
export interface Principal {
  id: string;
  /** admin: every permission. metrics: a scrape token (SLUICE_METRICS_TOKEN), allowed only GetMetrics and GetVersion. */
  kind: "admin" | "metrics" | "agent";
}

export const ADMIN_PRINCIPAL: Principal = { id: "admin", kind: "admin" };
export const METRICS_PRINCIPAL: Principal = { id: "metrics", kind: "metrics" };

/** Reading /metrics, and the version: what a scrape token is allowed. */
export const GET_METRICS = "sluice:GetMetrics";
export const GET_VERSION = "sluice:GetVersion";
/** What an agent token may do over HTTP: exchange itself for short-lived NATS credentials. */
export const ISSUE_NATS_CREDENTIALS = "sluice:IssueNatsCredentials";

/** The principal of a valid agent token (its id: the token's). */
export function agentPrincipal(tokenId: string): Principal {
  return { id: `agent-token/${tokenId}`, kind: "agent" };
}

/**
 * The one place that says what a principal may do, for GraphQL (graphql/auth-checker.ts) and the
 * HTTP routes alike. `action` is the IAM action name (`sluice:CreatePipeline`).
 */
export function isAllowed(principal: Principal, action: string | undefined): boolean {
  if (principal.kind === "admin") return true;
  if (principal.kind === "agent") return action === ISSUE_NATS_CREDENTIALS;
  return principal.kind === "metrics" && (action === GET_METRICS || action === GET_VERSION);
}
