import { compilePolicies, type CompiledPolicies } from "../domain/policy";

/** The one account of an installation for now (accounts and roles come later): SRNs carry it. */
export const DEFAULT_ACCOUNT = "default";

/**
 * Who makes a request: a user or a service account (by one of its API tokens, or the admin token,
 * which acts as the user `admin`), or the metrics scrape token. `policies` are its effective
 * policies compiled (compilePrincipal); the checker (auth/authorization.ts) asks them.
 */
export interface Principal {
  /** What the audit log and `createdBy` columns record: `user/alice`, `service-account/ci`, `metrics`. */
  id: string;
  kind: "user" | "service-account" | "metrics";
  name: string;
  policies: CompiledPolicies;
  /** The API token it authenticated with (null for the admin and metrics tokens). */
  tokenId: string | null;
}

/** Reading /metrics, and the version: what a scrape token is allowed. */
export const GET_METRICS = "sluice:GetMetrics";
export const GET_VERSION = "sluice:GetVersion";

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
