import crypto from "node:crypto";
import { ADMIN_PRINCIPAL, METRICS_PRINCIPAL, type Principal } from "./principal";

const digest = (value: string) => crypto.createHash("sha256").update(value).digest();

/** Verifies bearer tokens. Comparison runs in constant time over digests. */
export class Authenticator {
  private readonly adminDigest: Buffer;
  private readonly metricsDigest: Buffer | null;

  /** `metricsToken`: a token that may only scrape /metrics (SLUICE_METRICS_TOKEN); none when unset. */
  constructor(adminToken: string, metricsToken?: string) {
    this.adminDigest = digest(adminToken);
    this.metricsDigest = metricsToken ? digest(metricsToken) : null;
  }

  /** Accepts `Bearer <token>` or a bare token; returns null for a missing or unknown one. */
  authenticate(credential: unknown): Principal | null {
    if (typeof credential !== "string" || credential.length === 0) return null;
    const token = credential.replace(/^Bearer\s+/i, "").trim();
    if (!token) return null;
    const presented = digest(token);
    if (crypto.timingSafeEqual(presented, this.adminDigest)) return ADMIN_PRINCIPAL;
    if (this.metricsDigest && crypto.timingSafeEqual(presented, this.metricsDigest)) return METRICS_PRINCIPAL;
    return null;
  }
}

/**
 * The credential of a graphql-ws connection: its `connection_init` payload's `Authorization`
 * (in any case: clients spell it `authorization`, `Authorization`...), else the upgrade
 * request's Authorization header.
 */
export function connectionCredential(
  params: Readonly<Record<string, unknown>> | undefined,
  header: string | undefined,
): unknown {
  if (params && typeof params === "object") {
    for (const [key, value] of Object.entries(params)) {
      if (key.toLowerCase() === "authorization") return value;
    }
  }
  return header;
}
