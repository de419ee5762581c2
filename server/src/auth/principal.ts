import { compilePolicies, DEFAULT_ACCOUNT, type CompiledPolicies } from "../domain/policy";

export { DEFAULT_ACCOUNT };

/** A role session (assumeRole): the role a principal acts as, until its credentials expire. */
export interface AssumedRole {
  /** `srn:sluice:<account>:role/<name>`. */
  srn: string;
  account: string;
  name: string;
  sessionName: string;
  expiresAt: Date;
}

/**
 * Who makes a request: a user or a service account (by one of its API tokens, or the admin token,
 * which acts as the user `admin`), the metrics scrape token, or an agent token (over HTTP only, to
 * exchange itself for NATS credentials). `policies` are its effective
 * policies compiled (compilePrincipal); the checker (auth/authorization.ts) asks them.
 *
 * A role session (credentials from assumeRole) keeps the real principal's id, kind and name (what
 * the audit log records), and acts in the role's account with the role's policies only.
 */
export interface Principal {
  /** What the audit log and `createdBy` columns record: `user/alice`, `service-account/ci`, `metrics`. */
  id: string;
  kind: "user" | "service-account" | "metrics" | "agent";
  name: string;
  policies: CompiledPolicies;
  /** The API token it authenticated with (null for the admin and metrics tokens). */
  tokenId: string | null;
  /**
   * The account its requests act in (the SRNs of identities, policies, roles and the audit log
   * carry it): its own, or the assumed role's. Absent: the default account.
   */
  account?: string;
  /** The account the principal itself belongs to. Absent: the default account. */
  homeAccount?: string;
  /** Its groups' names (users), for trust policies naming a group. */
  groups?: readonly string[];
  /** Set for a role session. */
  assumedRole?: AssumedRole | null;
}

/** The account a principal's requests act in. */
export const actingAccount = (p: Principal): string => p.account ?? DEFAULT_ACCOUNT;
/** The account a principal belongs to. */
export const homeAccount = (p: Principal): string => p.homeAccount ?? DEFAULT_ACCOUNT;

/** Reading /metrics, and the version: what a scrape token is allowed. */
export const GET_METRICS = "sluice:GetMetrics";
export const GET_VERSION = "sluice:GetVersion";
/** What an agent token may do over HTTP: exchange itself for short-lived NATS credentials. */
export const ISSUE_NATS_CREDENTIALS = "sluice:IssueNatsCredentials";
/**
 * What an agent token may do over HTTP besides: move the artifacts of a job it holds the lease of
 * (the route checks the lease: engine/job-leases.ts).
 */
export const TRANSFER_JOB_ARTIFACTS = "sluice:TransferJobArtifacts";

/** An agent token: allowed IssueNatsCredentials and TransferJobArtifacts on the installation, nothing else. */
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
        {
          Sid: "JobArtifacts",
          Effect: "Allow",
          Action: [TRANSFER_JOB_ARTIFACTS],
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
