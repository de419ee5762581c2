import crypto from "node:crypto";
import type { DataSource } from "typeorm";
import { QueryFailedError } from "typeorm";
import { DomainError } from "../domain/errors";
import { POLICY_VERSION, type TrustPolicyDocument } from "../domain/policy";
import { auditedTransaction } from "./audit-store";
import { API_TOKEN_PREFIX, apiTokenHash, type TokenOwnerKind } from "./identity-store";
import { queryReturning } from "./returning";

/** The role every new account gets (Admin, trusting the managing account): see createAccount. */
export const ACCOUNT_ACCESS_ROLE = "AccountAccessRole";

export interface AccountRow {
  id: string;
  description: string | null;
  createdAt: Date;
  createdBy: string;
}

export interface RoleRow {
  id: string;
  account: string;
  name: string;
  description: string | null;
  trustPolicy: TrustPolicyDocument;
  maxSessionSeconds: number;
  createdAt: Date;
  createdBy: string;
}

export interface RoleSessionToken {
  id: string;
  expiresAt: Date;
  /** The credentials' secret: returned here only, a SHA-256 digest is kept. */
  secret: string;
}

const isUniqueViolation = (error: unknown) =>
  error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === "23505";

const ROLE_COLUMNS = `id, account, name, description, trust_policy AS "trustPolicy",
  max_session_seconds AS "maxSessionSeconds", created_at AS "createdAt", created_by AS "createdBy"`;

/**
 * Accounts (tenants), roles and role sessions (docs/policies.md, "Accounts and delegation"). Kept
 * apart from identity-store.ts: a role's policy attachments are identity-store's (principal kind
 * `role`); a role session is an API token (api_tokens) owned by the real principal and bound to
 * the role, with an expiry. Every change runs in an `auditedTransaction`.
 */
export class AccountStore {
  constructor(private readonly db: DataSource) {}

  /**
   * A new account, with its ACCOUNT_ACCESS_ROLE: the Admin managed policy, trusting the root of
   * `managingAccount` (whose principals still need sluice:AssumeRole on it in their own policies),
   * as AWS Organizations' OrganizationAccountAccessRole. It is how the account gets its first
   * users and policies.
   */
  async createAccount(
    id: string,
    description: string | null,
    managingAccount: string,
    by: string,
  ): Promise<AccountRow> {
    const trust: TrustPolicyDocument = {
      Version: POLICY_VERSION,
      Statement: [
        { Sid: "ManagingAccount", Effect: "Allow", Principal: [`srn:sluice:${managingAccount}:root`] },
      ],
    };
    try {
      return await auditedTransaction(this.db, async (m) => {
        const [row] = await queryReturning<AccountRow>(
          m,
          `INSERT INTO accounts (id, description, created_by) VALUES ($1, $2, $3)
           RETURNING id, description, created_at AS "createdAt", created_by AS "createdBy"`,
          [id, description, by],
        );
        await m.query(
          `INSERT INTO identity_roles (account, name, description, trust_policy, created_by)
           VALUES ($1, $2, $3, $4, $5)`,
          [
            id,
            ACCOUNT_ACCESS_ROLE,
            `Administers the account; assumable from the ${managingAccount} account.`,
            JSON.stringify(trust),
            by,
          ],
        );
        await m.query(
          `INSERT INTO policy_attachments (account, policy_name, principal_kind, principal_name, attached_by)
           VALUES ($1, 'Admin', 'role', $2, $3)`,
          [id, ACCOUNT_ACCESS_ROLE, by],
        );
        return row!;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError("CONFLICT", `An account "${id}" exists already.`);
      throw error;
    }
  }

  async accounts(): Promise<AccountRow[]> {
    return this.db.query(
      `SELECT id, description, created_at AS "createdAt", created_by AS "createdBy" FROM accounts ORDER BY id`,
    );
  }

  async accountExists(id: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM accounts WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  async createRole(
    account: string,
    input: {
      name: string;
      description: string | null;
      trustPolicy: TrustPolicyDocument;
      maxSessionSeconds: number;
    },
    by: string,
  ): Promise<RoleRow> {
    try {
      return await auditedTransaction(this.db, async (m) => {
        const [row] = await queryReturning<RoleRow>(
          m,
          `INSERT INTO identity_roles (account, name, description, trust_policy, max_session_seconds, created_by)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ROLE_COLUMNS}`,
          [
            account,
            input.name,
            input.description,
            JSON.stringify(input.trustPolicy),
            input.maxSessionSeconds,
            by,
          ],
        );
        return row!;
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new DomainError("CONFLICT", `A role named "${input.name}" exists already.`);
      }
      throw error;
    }
  }

  /** Deletes a role, its attachments and its sessions' credentials; false when there is none. */
  async deleteRole(account: string, name: string): Promise<boolean> {
    return auditedTransaction(this.db, async (m) => {
      await m.query(
        `DELETE FROM policy_attachments WHERE account = $1 AND principal_kind = 'role' AND principal_name = $2`,
        [account, name],
      );
      const rows = await queryReturning(
        m,
        `DELETE FROM identity_roles WHERE account = $1 AND name = $2 RETURNING id`,
        [account, name],
      );
      return rows.length > 0;
    });
  }

  async roles(account: string): Promise<RoleRow[]> {
    return this.db.query(`SELECT ${ROLE_COLUMNS} FROM identity_roles WHERE account = $1 ORDER BY name`, [
      account,
    ]);
  }

  async role(account: string, name: string): Promise<RoleRow | null> {
    const [row]: RoleRow[] = await this.db.query(
      `SELECT ${ROLE_COLUMNS} FROM identity_roles WHERE account = $1 AND name = $2`,
      [account, name],
    );
    return row ?? null;
  }

  /**
   * A role session's credentials: an API token owned by the real principal (`owner`, in its
   * account), bound to the role, expiring at `expiresAt`.
   */
  async createRoleSession(
    role: RoleRow,
    owner: { kind: TokenOwnerKind; account: string; name: string },
    sessionName: string,
    expiresAt: Date,
    by: string,
  ): Promise<RoleSessionToken> {
    const secret = `${API_TOKEN_PREFIX}${crypto.randomBytes(32).toString("base64url")}`;
    const table = owner.kind === "user" ? "identity_users" : "identity_service_accounts";
    const column = owner.kind === "user" ? "user_id" : "service_account_id";
    const row = await auditedTransaction(this.db, async (m) => {
      const [found]: Array<{ id: string }> = await m.query(
        `SELECT id FROM ${table} WHERE account = $1 AND name = $2`,
        [owner.account, owner.name],
      );
      if (!found) throw new DomainError("NOT_FOUND", `No ${owner.kind.replace("-", " ")} "${owner.name}".`);
      const [created] = await queryReturning<{ id: string; expiresAt: Date }>(
        m,
        `INSERT INTO api_tokens (token_hash, ${column}, role_id, session_name, description, created_by, expires_at)
         SELECT $1, $2, r.id, $3, $4, $5, $6 FROM identity_roles r WHERE r.id = $7
         RETURNING id, expires_at AS "expiresAt"`,
        [
          apiTokenHash(secret),
          found.id,
          sessionName,
          `role session ${sessionName} of ${role.account}:role/${role.name}`,
          by,
          expiresAt,
          role.id,
        ],
      );
      if (!created) throw new DomainError("NOT_FOUND", `The role "${role.name}" no longer exists.`);
      return created;
    });
    return { id: row.id, expiresAt: row.expiresAt, secret };
  }
}
