import crypto from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import type { ActionTypeId } from "@sluice/protocol";
import { auditedTransaction } from "./audit-store";
import { queryReturning } from "./returning";

/** What an agent shows: online (idle), busy (runs jobs), draining (leaving after its jobs), offline. */
export type AgentStatus = "online" | "busy" | "draining" | "offline";

export interface AgentRow {
  id: string;
  tokenId: string;
  /** Its token's account: it runs that account's pipelines' jobs only. */
  account: string;
  name: string;
  pool: string;
  labels: Record<string, string>;
  providers: ActionTypeId[];
  version: string;
  capacity: number;
  protocolVersion: number;
  heartbeatIntervalSeconds: number;
  status: AgentStatus;
  running: Array<{ jobId: string; attempt: number }>;
  registeredAt: Date;
  lastHeartbeat: Date;
  revoked: boolean;
}

export interface AgentTokenRow {
  id: string;
  /** The account its agents belong to. */
  account: string;
  description: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
}

export interface Registration {
  name: string;
  pool: string;
  labels: Record<string, string>;
  providers: ActionTypeId[];
  version: string;
  capacity: number;
  protocolVersion: number;
  heartbeatIntervalSeconds: number;
}

export type HeartbeatOutcome =
  | { ok: true; changed: AgentRow | null }
  | { ok: false; code: "Unauthenticated" | "UnknownAgent"; agent: AgentRow | null };

const AGENT_COLUMNS = `a.id, a.token_id AS "tokenId", t.account, a.name, a.pool, a.labels, a.providers, a.version,
  a.capacity, a.protocol_version AS "protocolVersion",
  a.heartbeat_interval_seconds AS "heartbeatIntervalSeconds", a.status, a.running,
  a.registered_at AS "registeredAt", a.last_heartbeat AS "lastHeartbeat",
  (t.revoked_at IS NOT NULL) AS revoked`;

const TOKEN_COLUMNS = `id, account, description, created_by AS "createdBy", created_at AS "createdAt",
  revoked_at AS "revokedAt", revoked_by AS "revokedBy"`;

/** How long a copy reuses a token's authentication (AgentStore.authenticate). */
export const AGENT_TOKEN_CACHE_MS = 3_000;
/** At most this many tokens' authentications are kept. */
const AGENT_TOKENS_KEPT = 1_000;

/** The hash a token is stored and looked up by. Tokens are 32 random bytes: no salt or slow hash needed. */
export function tokenHash(token: string): string {
  return crypto.createHash("sha256").update(token).digest("hex");
}

function statusOf(running: number, draining: boolean): AgentStatus {
  if (draining) return "draining";
  return running > 0 ? "busy" : "online";
}

/**
 * Agent tokens and registered agents. Tokens are shown once and kept as their SHA-256; an agent is
 * one (token, name) pair, so an agent that registers again keeps its id.
 */
export class AgentStore {
  /**
   * Tokens this copy authenticated lately, by hash: every artifact, secrets and credentials request
   * of an agent carries its token, and one statement per request is a round trip on every job's
   * critical path. Kept AGENT_TOKEN_CACHE_MS at most; a revocation through this copy forgets the
   * token at once, one through another copy takes effect here within that time (as API tokens,
   * auth/authenticate.ts).
   */
  private readonly authenticated = new Map<string, { row: AgentTokenRow; until: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** The agent's name when its token is revoked; null for an agent whose token is not. */
  async revokedName(agentId: string, manager: EntityManager = this.db.manager): Promise<string | null> {
    const rows: Array<{ name: string }> = await manager.query(
      `SELECT a.name FROM agents a JOIN agent_tokens t ON t.id = a.token_id
        WHERE a.id = $1 AND t.revoked_at IS NOT NULL`,
      [agentId],
    );
    return rows[0]?.name ?? null;
  }

  /** A token of an account: its agents take that account's jobs only. */
  async createToken(
    description: string,
    createdBy: string,
    account: string,
  ): Promise<{ row: AgentTokenRow; token: string }> {
    const token = `sat_${crypto.randomBytes(32).toString("base64url")}`;
    const [row]: AgentTokenRow[] = await auditedTransaction(this.db, (m) =>
      m.query(
        `INSERT INTO agent_tokens (description, token_hash, created_by, account) VALUES ($1, $2, $3, $4)
         RETURNING ${TOKEN_COLUMNS}`,
        [description, tokenHash(token), createdBy, account],
      ),
    );
    return { row: row!, token };
  }

  /** The account's tokens. */
  async listTokens(account: string): Promise<AgentTokenRow[]> {
    return this.db.query(
      `SELECT ${TOKEN_COLUMNS} FROM agent_tokens WHERE account = $1 ORDER BY created_at, id`,
      [account],
    );
  }

  /**
   * Revokes a token: its agents go offline, and the leases they hold end now, so the timer loop
   * fails their running attempts (and the retry policy moves them elsewhere) at once.
   */
  async revokeToken(
    id: string,
    revokedBy: string,
    /** The account the revoker acts in: another account's token is unknown to it. */
    account: string,
  ): Promise<{
    token: AgentTokenRow;
    agents: AgentRow[];
    leases: Array<{ key: string; agentId: string }>;
  } | null> {
    this.forgetToken(id);
    const revoked = await auditedTransaction(this.db, async (m) => {
      const [token] = await queryReturning<AgentTokenRow>(
        m,
        `UPDATE agent_tokens SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, $2)
          WHERE id = $1 AND account = $3 RETURNING ${TOKEN_COLUMNS}`,
        [id, revokedBy, account],
      );
      if (!token) return null;
      await m.query(
        `UPDATE agents SET status = 'offline', running = '[]' WHERE token_id = $1 AND status <> 'offline'`,
        [id],
      );
      const leases = await queryReturning<{ key: string; agentId: string }>(
        m,
        `UPDATE timers SET due_at = now() WHERE agent_id IN (SELECT id FROM agents WHERE token_id = $1)
         RETURNING key, agent_id AS "agentId"`,
        [id],
      );
      const agents = await this.select(m, `a.token_id = $1`, [id]);
      return { token, agents, leases };
    });
    // Again after the commit: a request that read the token while the revocation ran kept it.
    this.forgetToken(id);
    return revoked;
  }

  /**
   * The id of the agent (token, name), made now (offline, until it registers) when it has none: the
   * NATS credentials an agent asks for before registering name its own cancel subject and inbox.
   */
  async agentIdFor(tokenId: string, name: string, pool: string, providers: ActionTypeId[]): Promise<string> {
    await this.db.query(
      `INSERT INTO agents (token_id, name, pool, providers, version, capacity, protocol_version,
                           heartbeat_interval_seconds, status)
       VALUES ($1, $2, $3, $4, '', 1, 0, 0, 'offline')
       ON CONFLICT (token_id, name) DO NOTHING`,
      [tokenId, name, pool, JSON.stringify(providers)],
    );
    const [row]: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM agents WHERE token_id = $1 AND name = $2`,
      [tokenId, name],
    );
    return row!.id;
  }

  /**
   * Records a NATS user signed for an agent (to revoke with its token), and forgets expired ones.
   * False when the key is already another token's or agent's: a key is never moved, so a revoked
   * key cannot be taken out of the revocations by asking for it with another token.
   */
  async recordNatsUser(
    publicKey: string,
    tokenId: string,
    agentId: string,
    expiresAt: Date,
  ): Promise<boolean> {
    await this.db.query(`DELETE FROM agent_nats_users WHERE expires_at < now() - interval '1 hour'`);
    const rows = await queryReturning<{ publicKey: string }>(
      this.db,
      `INSERT INTO agent_nats_users (public_key, token_id, agent_id, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (public_key) DO UPDATE SET issued_at = now(), expires_at = EXCLUDED.expires_at
         WHERE agent_nats_users.token_id = EXCLUDED.token_id AND agent_nats_users.agent_id = EXCLUDED.agent_id
       RETURNING public_key AS "publicKey"`,
      [publicKey, tokenId, agentId, expiresAt],
    );
    return rows.length === 1;
  }

  /**
   * The NATS users of revoked tokens that have not expired: public key → the second (Unix time)
   * of the revocation, before which NATS no longer accepts their JWTs.
   */
  async natsRevocations(): Promise<Record<string, number>> {
    const rows: Array<{ publicKey: string; at: string }> = await this.db.query(
      `SELECT u.public_key AS "publicKey", ceil(extract(epoch FROM t.revoked_at))::bigint::text AS at
         FROM agent_nats_users u JOIN agent_tokens t ON t.id = u.token_id
        WHERE t.revoked_at IS NOT NULL AND u.expires_at > now()`,
    );
    return Object.fromEntries(rows.map((r) => [r.publicKey, Number(r.at)]));
  }

  /** The token's row when it is valid (known and not revoked). */
  async authenticate(token: string): Promise<AgentTokenRow | null> {
    const hash = tokenHash(token);
    const known = this.authenticated.get(hash);
    if (known && known.until > this.now()) return known.row;
    this.authenticated.delete(hash);
    const [row]: AgentTokenRow[] = await this.db.query(
      `SELECT ${TOKEN_COLUMNS} FROM agent_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    // Only tokens that exist are kept: an unknown one is asked about again (it may be made next).
    if (row) {
      if (this.authenticated.size >= AGENT_TOKENS_KEPT) {
        const oldest = this.authenticated.keys().next();
        if (!oldest.done) this.authenticated.delete(oldest.value);
      }
      this.authenticated.set(hash, { row, until: this.now() + AGENT_TOKEN_CACHE_MS });
    }
    return row ?? null;
  }

  /** Forgets what this copy knew of a token (it was revoked). */
  private forgetToken(id: string): void {
    for (const [hash, known] of this.authenticated) if (known.row.id === id) this.authenticated.delete(hash);
  }

  async register(tokenId: string, registration: Registration): Promise<AgentRow> {
    const r = registration;
    const [row]: Array<{ id: string }> = await this.db.query(
      `INSERT INTO agents (token_id, name, pool, labels, providers, version, capacity, protocol_version,
                           heartbeat_interval_seconds, status, running, registered_at, last_heartbeat)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'online', '[]', now(), now())
       ON CONFLICT (token_id, name) DO UPDATE SET
         pool = EXCLUDED.pool, labels = EXCLUDED.labels, providers = EXCLUDED.providers,
         version = EXCLUDED.version, capacity = EXCLUDED.capacity,
         protocol_version = EXCLUDED.protocol_version,
         heartbeat_interval_seconds = EXCLUDED.heartbeat_interval_seconds,
         status = 'online', running = '[]', registered_at = now(), last_heartbeat = now()
       RETURNING id`,
      [
        tokenId,
        r.name,
        r.pool,
        JSON.stringify(r.labels),
        JSON.stringify(r.providers),
        r.version,
        r.capacity,
        r.protocolVersion,
        r.heartbeatIntervalSeconds,
      ],
    );
    return (await this.find(row!.id))!;
  }

  /** Keeps the x25519 public key an agent registered (secrets are sealed for it); null clears it. */
  async recordPublicKey(agentId: string, publicKey: string | null): Promise<void> {
    await this.db.query(`UPDATE agents SET public_key = $2 WHERE id = $1`, [agentId, publicKey]);
  }

  /** The agent's registered public key; null when it registered none (or is unknown). */
  async publicKeyOf(agentId: string): Promise<string | null> {
    const rows: Array<{ key: string | null }> = await this.db.query(
      `SELECT public_key AS key FROM agents WHERE id = $1`,
      [agentId],
    );
    return rows[0]?.key ?? null;
  }

  /**
   * Records an agent heartbeat. `changed` is the agent when its status changed (for agentEvents);
   * a revoked agent or an unknown id gets the refusal the agent acts on (PROTOCOL.md 5.8).
   */
  async heartbeat(
    agentId: string,
    beat: { running: Array<{ jobId: string; attempt: number }>; draining: boolean; leaving: boolean },
  ): Promise<HeartbeatOutcome> {
    const agent = await this.find(agentId);
    if (!agent) return { ok: false, code: "UnknownAgent", agent: null };
    if (agent.revoked) return { ok: false, code: "Unauthenticated", agent };
    const status = beat.leaving ? "offline" : statusOf(beat.running.length, beat.draining);
    await this.db.query(`UPDATE agents SET status = $2, running = $3, last_heartbeat = now() WHERE id = $1`, [
      agentId,
      status,
      JSON.stringify(beat.running),
    ]);
    const changed =
      status !== agent.status || beat.running.length !== agent.running.length
        ? { ...agent, status, running: beat.running, lastHeartbeat: new Date() }
        : null;
    return { ok: true, changed };
  }

  /** Agents silent for `intervals` heartbeat intervals go offline; returns those that just did. */
  async markSilentOffline(intervals: number): Promise<AgentRow[]> {
    const rows = await queryReturning<{ id: string }>(
      this.db.manager,
      `UPDATE agents SET status = 'offline', running = '[]'
        WHERE status <> 'offline'
          AND last_heartbeat < now() - make_interval(secs => heartbeat_interval_seconds * $1)
        RETURNING id`,
      [intervals],
    );
    if (rows.length === 0) return [];
    return this.select(this.db.manager, `a.id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
  }

  async find(id: string): Promise<AgentRow | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const [row] = await this.select(this.db.manager, `a.id = $1`, [id]);
    return row ?? null;
  }

  /** The agents of an account (all of them when `account` is left out: the server's own uses). */
  async list(
    filter: { account?: string; pool?: string | null; status?: AgentStatus | null } = {},
  ): Promise<AgentRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.account !== undefined) where.push(`t.account = $${params.push(filter.account)}`);
    if (filter.pool) where.push(`a.pool = $${params.push(filter.pool)}`);
    if (filter.status) where.push(`a.status = $${params.push(filter.status)}`);
    return this.select(
      this.db.manager,
      where.length ? where.join(" AND ") : "true",
      params,
      "a.pool, a.name",
    );
  }

  /** Online agents (any status but offline) of `pool` that run `type`: whether a job there can start. */
  async serving(pool: string, type: ActionTypeId): Promise<AgentRow[]> {
    return this.select(
      this.db.manager,
      `a.pool = $1 AND a.status <> 'offline' AND t.revoked_at IS NULL AND a.providers @> $2::jsonb`,
      [pool, JSON.stringify([type])],
    );
  }

  private async select(
    m: EntityManager,
    where: string,
    params: unknown[],
    order = "a.registered_at",
  ): Promise<AgentRow[]> {
    const rows: AgentRow[] = await m.query(
      `SELECT ${AGENT_COLUMNS} FROM agents a JOIN agent_tokens t ON t.id = a.token_id WHERE ${where} ORDER BY ${order}`,
      params,
    );
    return rows.map((row) => ({
      ...row,
      registeredAt: new Date(row.registeredAt),
      lastHeartbeat: new Date(row.lastHeartbeat),
    }));
  }
}
