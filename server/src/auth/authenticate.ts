import crypto from "node:crypto";
import { compilePrincipal, formatSrn } from "../domain/policy";
import { apiTokenHash, type ApiTokenRow, type IdentityStore } from "../persistence/identity-store";
import { DEFAULT_ACCOUNT, METRICS_PRINCIPAL, principalId, type Principal } from "./principal";

const digest = (value: string) => crypto.createHash("sha256").update(value).digest();

/** How long an authenticated token's principal is reused without asking the database. */
export const AUTH_CACHE_TTL_MS = 3_000;
const CACHE_MAX = 10_000;

/**
 * Verifies bearer tokens: the admin token (SLUICE_ADMIN_TOKEN or the generated one; it acts as the
 * user `admin`), the metrics scrape token, and API tokens (`slc_…`, looked up by their SHA-256
 * digest). A revoked or expired token, or one whose owner is gone, authenticates nobody. A role
 * session's token (assumeRole) authenticates its real principal acting as the role: in the role's
 * account, with the role's policies only (and nobody once the role is gone).
 * Principals are cached per token digest for AUTH_CACHE_TTL_MS; `invalidate` empties the cache
 * when a token, a membership, a policy or an attachment changes in this process (other server
 * copies see the change within the TTL).
 */
export class Authenticator {
  private readonly adminDigest: Buffer;
  private readonly metricsDigest: Buffer | null;
  private readonly cache = new Map<string, { principal: Promise<Principal | null>; until: number }>();
  private generation = 0;

  /** `metricsToken`: a token that may only scrape /metrics (SLUICE_METRICS_TOKEN); none when unset. */
  constructor(
    private readonly store: IdentityStore,
    adminToken: string,
    metricsToken?: string,
    private readonly now: () => number = Date.now,
  ) {
    this.adminDigest = digest(adminToken);
    this.metricsDigest = metricsToken ? digest(metricsToken) : null;
  }

  /** Accepts `Bearer <token>` or a bare token; null for a missing, unknown, revoked or expired one. */
  async authenticate(credential: unknown): Promise<Principal | null> {
    const token = tokenOf(credential);
    if (!token) return null;
    const presented = digest(token);
    if (crypto.timingSafeEqual(presented, this.adminDigest))
      return this.cached(presented, () => this.user("admin", null));
    if (this.metricsDigest && crypto.timingSafeEqual(presented, this.metricsDigest)) return METRICS_PRINCIPAL;
    return this.cached(presented, () => this.apiToken(token));
  }

  /** Forgets every cached principal (a token was revoked, a policy or an attachment changed). */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  /** One lookup per token at a time: concurrent requests with the same token share it. */
  private async cached(key: Buffer, load: () => Promise<Principal | null>): Promise<Principal | null> {
    const id = key.toString("base64");
    const now = this.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) {
      const principal = await hit.principal;
      if (principal === null || !expired(principal, this.now())) return principal;
    }
    const generation = this.generation;
    const loading = load();
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(id, { principal: loading, until: now + AUTH_CACHE_TTL_MS });
    try {
      return await loading;
    } catch (error) {
      if (this.cache.get(id)?.principal === loading) this.cache.delete(id);
      throw error;
    } finally {
      // A change while it loaded: what it read may be stale, keep it for this request only.
      if (generation !== this.generation && this.cache.get(id)?.principal === loading) this.cache.delete(id);
    }
  }

  private async apiToken(token: string): Promise<Principal | null> {
    const row = await this.store.tokenByHash(apiTokenHash(token));
    if (!row || row.revokedAt !== null) return null;
    if (row.expiresAt !== null && row.expiresAt.getTime() <= this.now()) return null;
    const principal = row.role
      ? await this.roleSession(row, row.role)
      : await this.user(row.ownerName, row.id, row.ownerKind, row.ownerAccount);
    if (principal) {
      void this.store.touchApiToken(row.id).catch(() => undefined);
      if (row.expiresAt) expiries.set(principal, row.expiresAt.getTime());
    }
    return principal;
  }

  private async user(
    name: string,
    tokenId: string | null,
    kind: "user" | "service-account" = "user",
    account = DEFAULT_ACCOUNT,
  ): Promise<Principal | null> {
    const holder = await this.store.forAccount(account).holder(kind, name);
    if (!holder) return null;
    return {
      id: principalId(kind, name),
      kind,
      name,
      tokenId,
      policies: compilePrincipal(holder),
      account,
      homeAccount: account,
      groups: holder.kind === "role-session" ? [] : holder.groups.map((g) => g.name),
      assumedRole: null,
    };
  }

  /** A role session: the real principal (still existing), acting as the role. */
  private async roleSession(
    row: ApiTokenRow,
    role: NonNullable<ApiTokenRow["role"]>,
  ): Promise<Principal | null> {
    if (!(await this.store.forAccount(row.ownerAccount).exists(row.ownerKind, row.ownerName))) return null;
    const roles = this.store.forAccount(role.account);
    if (!(await roles.exists("role", role.name))) return null;
    const policies = await roles.policiesAttachedTo("role", role.name);
    return {
      id: principalId(row.ownerKind, row.ownerName),
      kind: row.ownerKind,
      name: row.ownerName,
      tokenId: row.id,
      policies: compilePrincipal({ kind: "role-session", role: role.name, policies }),
      account: role.account,
      homeAccount: row.ownerAccount,
      groups: [],
      assumedRole: {
        srn: formatSrn(role.account, { type: "role", name: role.name }),
        account: role.account,
        name: role.name,
        sessionName: role.sessionName,
        expiresAt: row.expiresAt!,
      },
    };
  }
}

/** When a principal's token expires (cached principals are not served past it). */
const expiries = new WeakMap<Principal, number>();
const expired = (principal: Principal, now: number) => (expiries.get(principal) ?? Infinity) <= now;

function tokenOf(credential: unknown): string | null {
  if (typeof credential !== "string" || credential.length === 0) return null;
  const token = credential.replace(/^Bearer\s+/i, "").trim();
  return token || null;
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
