import { compilePolicies, type CompiledPolicies } from "../domain/policy";

/** The one account of an installation for now (accounts and roles come later): SRNs carry it. */
export const DEFAULT_ACCOUNT = "default";

/**
 * Who makes a request: a user or a service account (by one of its API tokens, or the admin token,
 * which acts as the user `admin`), the metrics scrape token, or an agent token (over HTTP only, to
 * exchange itself for NATS credentials). `policies` are its effective
 * policies compiled (compilePrincipal); the checker (auth/authorization.ts) asks them.
 */
export interface Principal {
  /** What the audit log and `createdBy` columns record: `user/alice`, `service-account/ci`, `metrics`. */
  id: string;
  kind: "user" | "service-account" | "metrics" | "agent";
  name: string;
  policies: CompiledPolicies;
  /** The API token it authenticated with (null for the admin and metrics tokens). */
  tokenId: string | null;
}

/** Reading /metrics, and the version: what a scrape token is allowed. */
export const GET_METRICS = "sluice:GetMetrics";
export const GET_VERSION = "sluice:GetVersion";
/** What an agent token may do over HTTP: exchange itself for short-lived NATS credentials. */
export const ISSUE_NATS_CREDENTIALS = "sluice:IssueNatsCredentials";

/** An agent token: allowed IssueNatsCredentials on the installation, nothing else. */
const AGENT_POLICIES = compilePolicies([
  {
    name: "AgentCredentials",
    attachedTo: "agent",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "NatsCredentials",
          Effect: "Allow",
          Action: [ISSUE_NATS_CREDENTIALS],
          Resource: ["srn:sluice:*:installation"],
        },
      ],
    },
  },
]);

/** The principal of a valid agent token (its id: the token's). */
export function agentPrincipal(tokenId: string): Principal {
  return {
    id: `agent-token/${tokenId}`,
    kind: "agent",
    name: tokenId,
    tokenId,
    policies: AGENT_POLICIES,
  };
}

/** SLUICE_METRICS_TOKEN: allowed GetMetrics and GetVersion on the installation, nothing else. */
export const METRICS_PRINCIPAL: Principal = {
  id: "metrics",
  kind: "metrics",
  name: "metrics",
  tokenId: null,
  policies: compilePolicies([
    {
      name: "MetricsScrape",
      attachedTo: "metrics",
      document: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "Scrape",
            Effect: "Allow",
            Action: [GET_METRICS, GET_VERSION],
            Resource: ["srn:sluice:*:installation"],
          },
        ],
      },
    },
  ]),
};

export const principalId = (kind: "user" | "service-account", name: string) => `${kind}/${name}`;
