import crypto from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import { QueryFailedError } from "typeorm";
import { DomainError } from "../domain/errors";
import {
  DEFAULT_ACCOUNT,
  MANAGED_POLICIES,
  type ManagedPolicyName,
  type NamedPolicy,
  type PolicyDocument,
  type PolicyHolder,
} from "../domain/policy";
import { auditedTransaction } from "./audit-store";
import { queryReturning } from "./returning";

/** Who a token, an attachment or a membership is about. Groups hold no tokens; roles hold only policies. */
export type HolderKind = "user" | "group" | "service-account" | "role";
export type TokenOwnerKind = "user" | "service-account";

export interface UserRow {
  id: string;
  name: string;
  displayName: string | null;
  email: string | null;
  createdAt: Date;
  createdBy: string;
}

export interface GroupRow {
  id: string;
  name: string;
  createdAt: Date;
  createdBy: string;
}

export interface ServiceAccountRow {
  id: string;
  name: string;
  description: string | null;
  createdAt: Date;
  createdBy: string;
}

export interface ApiTokenRow {
  id: string;
  ownerKind: TokenOwnerKind;
  ownerName: string;
  /** The owner's account. */
  ownerAccount: string;
  /** A role session's token (assumeRole): the role it acts as; null for an ordinary token. */
  role: { account: string; name: string; sessionName: string } | null;
  description: string;
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

export interface PolicyRow {
  name: string;
  description: string | null;
  document: PolicyDocument;
  managed: boolean;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface AttachmentRow {
  policyName: string;
  principalKind: HolderKind;
  principalName: string;
  attachedAt: Date;
  attachedBy: string;
}

/** The prefix of every API token's secret: secret scanners and people recognise it. */
export const API_TOKEN_PREFIX = "slc_";

/** SHA-256 of a token: what is stored and looked up (the secret itself never is). */
export function apiTokenHash(token: string): Buffer {
  return crypto.createHash("sha256").update(token).digest();
}

const TOKEN_COLUMNS = `t.id, CASE WHEN t.user_id IS NULL THEN 'service-account' ELSE 'user' END AS "ownerKind",
  coalesce(u.name, s.name) AS "ownerName", coalesce(u.account, s.account) AS "ownerAccount",
  CASE WHEN r.id IS NULL THEN NULL
       ELSE json_build_object('account', r.account, 'name', r.name, 'sessionName', t.session_name) END AS role,
  t.description, t.created_at AS "createdAt", t.created_by AS "createdBy",
  t.expires_at AS "expiresAt", t.last_used_at AS "lastUsedAt", t.revoked_at AS "revokedAt", t.revoked_by AS "revokedBy"`;
const TOKEN_FROM = `api_tokens t LEFT JOIN identity_users u ON u.id = t.user_id
  LEFT JOIN identity_service_accounts s ON s.id = t.service_account_id
  LEFT JOIN identity_roles r ON r.id = t.role_id`;

const isUniqueViolation = (error: unknown) =>
  error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === "23505";

const TABLE: Record<HolderKind, string> = {
  user: "identity_users",
  group: "identity_groups",
  "service-account": "identity_service_accounts",
  role: "identity_roles",
};

export const isManagedPolicyName = (name: string): name is ManagedPolicyName =>
  Object.hasOwn(MANAGED_POLICIES, name);

/**
 * Users, groups, service accounts, API tokens, customer policies and attachments. Every change runs
 * in an `auditedTransaction`: the mutation's audit row commits with it. Names are checked by the
 * caller (auth/identity-service.ts); this store answers NOT_FOUND and CONFLICT.
 *
 * A store is bound to one account (`forAccount`): names are unique per account, and what it reads
 * and writes is that account's. Tokens are found by their digest in every account (tokenByHash).
 */
export class IdentityStore {
  constructor(
    private readonly db: DataSource,
    readonly account: string = DEFAULT_ACCOUNT,
  ) {}

  /** The same store, bound to another account. */
  forAccount(account: string): IdentityStore {
    return account === this.account ? this : new IdentityStore(this.db, account);
  }

  async createUser(
    input: { name: string; displayName: string | null; email: string | null },
    by: string,
  ): Promise<UserRow> {
    return this.unique(`A user named "${input.name}" exists already.`, () =>
      auditedTransaction(this.db, async (m) => {
        const [row] = await queryReturning<UserRow>(
          m,
          `INSERT INTO identity_users (name, display_name, email, created_by, account) VALUES ($1, $2, $3, $4, $5)
           RETURNING id, name, display_name AS "displayName", email, created_at AS "createdAt", created_by AS "createdBy"`,
          [input.name, input.displayName, input.email, by, this.account],
        );
        return row!;
      }),
    );
  }

  async createGroup(name: string, by: string): Promise<GroupRow> {
    return this.unique(`A group named "${name}" exists already.`, () =>
      auditedTransaction(this.db, async (m) => {
        const [row] = await queryReturning<GroupRow>(
          m,
          `INSERT INTO identity_groups (name, created_by, account) VALUES ($1, $2, $3)
           RETURNING id, name, created_at AS "createdAt", created_by AS "createdBy"`,
          [name, by, this.account],
        );
        return row!;
      }),
    );
  }

  async createServiceAccount(
    name: string,
    description: string | null,
    by: string,
  ): Promise<ServiceAccountRow> {
    return this.unique(`A service account named "${name}" exists already.`, () =>
      auditedTransaction(this.db, async (m) => {
        const [row] = await queryReturning<ServiceAccountRow>(
          m,
          `INSERT INTO identity_service_accounts (name, description, created_by, account) VALUES ($1, $2, $3, $4)
           RETURNING id, name, description, created_at AS "createdAt", created_by AS "createdBy"`,
          [name, description, by, this.account],
        );
        return row!;
      }),
    );
  }

  /** Adds (true) or removes a membership; false when it was already so. */
  async setMembership(group: string, user: string, member: boolean): Promise<boolean> {
    return auditedTransaction(this.db, async (m) => {
      const groupId = await this.requireId(m, "group", group);
      const userId = await this.requireId(m, "user", user);
      const rows = member
        ? await queryReturning(
            m,
            `INSERT INTO identity_group_members (group_id, user_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING RETURNING group_id`,
            [groupId, userId],
          )
        : await queryReturning(
            m,
            `DELETE FROM identity_group_members WHERE group_id = $1 AND user_id = $2 RETURNING group_id`,
            [groupId, userId],
          );
      return rows.length > 0;
    });
  }

  async users(): Promise<UserRow[]> {
    return this.db.query(
      `SELECT id, name, display_name AS "displayName", email, created_at AS "createdAt", created_by AS "createdBy"
         FROM identity_users WHERE account = $1 ORDER BY name`,
      [this.account],
    );
  }

  /** The groups by name, each with its members' names. */
  async groups(): Promise<Array<GroupRow & { members: string[] }>> {
    return this.db.query(
      `SELECT g.id, g.name, g.created_at AS "createdAt", g.created_by AS "createdBy",
              coalesce(array_agg(u.name ORDER BY u.name) FILTER (WHERE u.name IS NOT NULL), '{}') AS members
         FROM identity_groups g
         LEFT JOIN identity_group_members gm ON gm.group_id = g.id
         LEFT JOIN identity_users u ON u.id = gm.user_id
        WHERE g.account = $1
        GROUP BY g.id ORDER BY g.name`,
      [this.account],
    );
  }

  async serviceAccounts(): Promise<ServiceAccountRow[]> {
    return this.db.query(
      `SELECT id, name, description, created_at AS "createdAt", created_by AS "createdBy"
         FROM identity_service_accounts WHERE account = $1 ORDER BY name`,
      [this.account],
    );
  }

  /** Every attachment of the account, by principal then policy. */
  async allAttachments(): Promise<AttachmentRow[]> {
    return this.db.query(
      `SELECT policy_name AS "policyName", principal_kind AS "principalKind", principal_name AS "principalName",
              attached_at AS "attachedAt", attached_by AS "attachedBy"
         FROM policy_attachments WHERE account = $1
        ORDER BY principal_kind, principal_name, attached_at, policy_name`,
      [this.account],
    );
  }

  async groupsOf(user: string): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.db.query(
      `SELECT g.name FROM identity_groups g JOIN identity_group_members gm ON gm.group_id = g.id
         JOIN identity_users u ON u.id = gm.user_id WHERE u.name = $1 AND u.account = $2 ORDER BY g.name`,
      [user, this.account],
    );
    return rows.map((r) => r.name);
  }

  async exists(kind: HolderKind, name: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM ${TABLE[kind]} WHERE name = $1 AND account = $2`,
      [name, this.account],
    );
    return rows.length > 0;
  }

  /** A new token for a user or service account; the secret is returned here only. */
  async createApiToken(
    owner: { kind: TokenOwnerKind; name: string },
    description: string,
    expiresAt: Date | null,
    by: string,
  ): Promise<{ token: ApiTokenRow; secret: string }> {
    const secret = `${API_TOKEN_PREFIX}${crypto.randomBytes(32).toString("base64url")}`;
    const token = await auditedTransaction(this.db, async (m) => {
      const ownerId = await this.requireId(m, owner.kind, owner.name);
      const [row] = await queryReturning<{ id: string }>(
        m,
        `INSERT INTO api_tokens (token_hash, ${owner.kind === "user" ? "user_id" : "service_account_id"},
                                 description, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [apiTokenHash(secret), ownerId, description, by, expiresAt],
      );
      return (await this.tokens(m, `t.id = $1`, [row!.id]))[0]!;
    });
    return { token, secret };
  }

  async apiTokens(owner: { kind: TokenOwnerKind; name: string } | null): Promise<ApiTokenRow[]> {
    const inAccount = `coalesce(u.account, s.account) = $1`;
    if (!owner) return this.tokens(this.db.manager, inAccount, [this.account]);
    const column = owner.kind === "user" ? "u.name" : "s.name";
    return this.tokens(this.db.manager, `${inAccount} AND ${column} = $2`, [this.account, owner.name]);
  }

  async apiToken(id: string): Promise<ApiTokenRow | null> {
    if (!isUuid(id)) return null;
    return (await this.tokens(this.db.manager, `t.id = $1`, [id]))[0] ?? null;
  }

  /** Revokes a token (a revoked one stays as it was); null when there is none. */
  async revokeApiToken(id: string, by: string): Promise<ApiTokenRow | null> {
    if (!isUuid(id)) return null;
    return auditedTransaction(this.db, async (m) => {
      const rows = await queryReturning(
        m,
        `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, $2)
          WHERE id = $1 RETURNING id`,
        [id, by],
      );
      return rows.length ? (await this.tokens(m, `t.id = $1`, [id]))[0]! : null;
    });
  }

  /** The token whose secret has this digest, revoked or expired ones included; null when none. */
  async tokenByHash(hash: Buffer): Promise<ApiTokenRow | null> {
    return (await this.tokens(this.db.manager, `t.token_hash = $1`, [hash]))[0] ?? null;
  }

  /** Records a use (at most one write a minute a token). */
  async touchApiToken(id: string): Promise<void> {
    await this.db.query(
      `UPDATE api_tokens SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  /** Creates or replaces a customer policy (its document already validated). */
  async putPolicy(
    name: string,
    description: string | null,
    document: PolicyDocument,
    by: string,
  ): Promise<PolicyRow> {
    return auditedTransaction(this.db, async (m) => {
      const [row] = await queryReturning<PolicyRow>(
        m,
        `INSERT INTO identity_policies (name, description, document, updated_by, account) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account, name) DO UPDATE SET description = EXCLUDED.description, document = EXCLUDED.document,
           updated_at = now(), updated_by = EXCLUDED.updated_by
         RETURNING name, description, document, false AS managed, updated_at AS "updatedAt", updated_by AS "updatedBy"`,
        [name, description, JSON.stringify(document), by, this.account],
      );
      return row!;
    });
  }

  /** Deletes a customer policy that is attached nowhere; false when there is none. */
  async deletePolicy(name: string): Promise<boolean> {
    return auditedTransaction(this.db, async (m) => {
      const [attached] = await m.query(
        `SELECT count(*)::int AS n FROM policy_attachments WHERE policy_name = $1 AND account = $2`,
        [name, this.account],
      );
      if (attached.n > 0) {
        throw new DomainError(
          "CONFLICT",
          `Policy "${name}" is attached to ${attached.n} principal(s): detach it first.`,
        );
      }
      const rows = await queryReturning(
        m,
        `DELETE FROM identity_policies WHERE name = $1 AND account = $2 RETURNING name`,
        [name, this.account],
      );
      return rows.length > 0;
    });
  }

  /** The managed policies, then the customer ones by name. */
  async policies(): Promise<PolicyRow[]> {
    const managed: PolicyRow[] = Object.entries(MANAGED_POLICIES).map(([name, document]) => ({
      name,
      description: null,
      document,
      managed: true,
      updatedAt: null,
      updatedBy: null,
    }));
    const customer: PolicyRow[] = await this.db.query(
      `SELECT name, description, document, false AS managed, updated_at AS "updatedAt", updated_by AS "updatedBy"
         FROM identity_policies WHERE account = $1 ORDER BY name`,
      [this.account],
    );
    return [...managed, ...customer];
  }

  /** Attaches a policy (true) or detaches it; false when it already was so. */
  async setAttachment(
    policyName: string,
    holder: { kind: HolderKind; name: string },
    attached: boolean,
    by: string,
  ): Promise<boolean> {
    return auditedTransaction(this.db, async (m) => {
      if (attached) {
        await this.requireId(m, holder.kind, holder.name);
        if (!isManagedPolicyName(policyName)) {
          const rows: unknown[] = await m.query(
            `SELECT 1 FROM identity_policies WHERE name = $1 AND account = $2 FOR SHARE`,
            [policyName, this.account],
          );
          if (rows.length === 0)
            throw new DomainError("NOT_FOUND", `No policy named "${policyName}" exists.`);
        }
        const rows = await queryReturning(
          m,
          `INSERT INTO policy_attachments (policy_name, principal_kind, principal_name, attached_by, account)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING policy_name`,
          [policyName, holder.kind, holder.name, by, this.account],
        );
        return rows.length > 0;
      }
      const rows = await queryReturning(
        m,
        `DELETE FROM policy_attachments
          WHERE policy_name = $1 AND principal_kind = $2 AND principal_name = $3 AND account = $4
         RETURNING policy_name`,
        [policyName, holder.kind, holder.name, this.account],
      );
      return rows.length > 0;
    });
  }

  async attachments(holder: { kind: HolderKind; name: string }): Promise<AttachmentRow[]> {
    return this.db.query(
      `SELECT policy_name AS "policyName", principal_kind AS "principalKind", principal_name AS "principalName",
              attached_at AS "attachedAt", attached_by AS "attachedBy"
         FROM policy_attachments WHERE principal_kind = $1 AND principal_name = $2 AND account = $3
        ORDER BY attached_at, policy_name`,
      [holder.kind, holder.name, this.account],
    );
  }

  /**
   * What the evaluator needs of a user or service account: its policies, then its groups' (users
   * only); null when it does not exist.
   */
  async holder(kind: TokenOwnerKind, name: string): Promise<PolicyHolder | null> {
    if (!(await this.exists(kind, name))) return null;
    const policies = await this.policiesAttachedTo(kind, name);
    const groups =
      kind === "user"
        ? await Promise.all(
            (await this.groupsOf(name)).map(async (group) => ({
              name: group,
              policies: await this.policiesAttachedTo("group", group),
            })),
          )
        : [];
    return { kind, name, policies, groups };
  }

  /**
   * The first start's admin: a user named `admin` holding the Admin managed policy (the admin
   * token acts as this user). Created once; later starts leave it as the operators left it.
   */
  async ensureAdmin(): Promise<void> {
    await this.db.transaction(async (m) => {
      const created = await queryReturning(
        m,
        `INSERT INTO identity_users (name, display_name, created_by) VALUES ('admin', 'Administrator', 'sluice')
         ON CONFLICT (account, name) DO NOTHING RETURNING id`,
        [],
      );
      if (created.length > 0) {
        await m.query(
          `INSERT INTO policy_attachments (policy_name, principal_kind, principal_name, attached_by)
           VALUES ('Admin', 'user', 'admin', 'sluice') ON CONFLICT DO NOTHING`,
        );
      }
    });
  }

  async policiesAttachedTo(kind: HolderKind, name: string): Promise<NamedPolicy[]> {
    const rows: Array<{ name: string; document: PolicyDocument | null }> = await this.db.query(
      `SELECT a.policy_name AS name, p.document FROM policy_attachments a
         LEFT JOIN identity_policies p ON p.name = a.policy_name AND p.account = a.account
        WHERE a.principal_kind = $1 AND a.principal_name = $2 AND a.account = $3
        ORDER BY a.attached_at, a.policy_name`,
      [kind, name, this.account],
    );
    const policies: NamedPolicy[] = [];
    for (const row of rows) {
      if (isManagedPolicyName(row.name))
        policies.push({ name: row.name, document: MANAGED_POLICIES[row.name] });
      else if (row.document) policies.push({ name: row.name, document: row.document });
    }
    return policies;
  }

  private async tokens(m: EntityManager, where: string, params: unknown[]): Promise<ApiTokenRow[]> {
    return m.query(
      `SELECT ${TOKEN_COLUMNS} FROM ${TOKEN_FROM} WHERE ${where} ORDER BY t.created_at, t.id`,
      params,
    );
  }

  private async requireId(m: EntityManager, kind: HolderKind, name: string): Promise<string> {
    const [row]: Array<{ id: string }> = await m.query(
      `SELECT id FROM ${TABLE[kind]} WHERE name = $1 AND account = $2`,
      [name, this.account],
    );
    if (!row) throw new DomainError("NOT_FOUND", `No ${kind.replace("-", " ")} named "${name}" exists.`);
    return row.id;
  }

  private async unique<T>(message: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError("CONFLICT", message);
      throw error;
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (value: string) => UUID.test(value);
