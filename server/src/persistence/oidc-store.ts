import type { DataSource, EntityManager } from "typeorm";
import { QueryFailedError } from "typeorm";
import { DomainError } from "../domain/errors";
import { auditedTransaction } from "./audit-store";
import { queryReturning } from "./returning";

/** A sign-in under way (persistence of /auth/oidc/start for its callback). */
export interface OidcFlowRow {
  browserHash: Buffer;
  nonce: string;
  nextPath: string;
  expiresAt: Date;
}

/** Who signed in at the provider, as its claims say. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  /** The Sluice user name a first sign-in creates (preferred_username, else sub). */
  name: string;
  displayName: string | null;
  email: string | null;
}

export interface OidcSignInResult {
  user: string;
  created: boolean;
  /** Groups sign-in made the user a member of, and removed the user from. */
  added: string[];
  removed: string[];
  /** Mapped Sluice groups that do not exist (nothing was done for them). */
  missing: string[];
}

const isUniqueViolation = (error: unknown) =>
  error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === "23505";

/**
 * OpenID Connect sign-in's rows: the flows under way (single use, ten minutes), the links of
 * provider identities to users, and the group memberships sign-in granted. Separate from
 * identity-store.ts, whose tables it reads and writes in the same transaction.
 */
export class OidcStore {
  constructor(private readonly db: DataSource) {}

  /** Keeps a new flow; drops the expired ones on the way (there are few: ten minutes each). */
  async saveFlow(stateHash: Buffer, flow: OidcFlowRow): Promise<void> {
    await this.db.query(`DELETE FROM oidc_sign_in_flows WHERE expires_at < now()`);
    await this.db.query(
      `INSERT INTO oidc_sign_in_flows (state_hash, browser_hash, nonce, next_path, expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [stateHash, flow.browserHash, flow.nonce, flow.nextPath, flow.expiresAt],
    );
  }

  /** Takes the flow of a state (it can be used once); null when there is none. Expired ones too. */
  async takeFlow(stateHash: Buffer): Promise<OidcFlowRow | null> {
    const [row] = await queryReturning<OidcFlowRow>(
      this.db.manager,
      `DELETE FROM oidc_sign_in_flows WHERE state_hash = $1
       RETURNING browser_hash AS "browserHash", nonce, next_path AS "nextPath", expires_at AS "expiresAt"`,
      [stateHash],
    );
    return row ?? null;
  }

  /** The name of the user linked to a provider identity; null before its first sign-in. */
  async linkedUser(issuer: string, subject: string): Promise<string | null> {
    const [row]: Array<{ name: string }> = await this.db.query(
      `SELECT u.name FROM identity_oidc_links l JOIN identity_users u ON u.id = l.user_id
        WHERE l.issuer = $1 AND l.subject = $2`,
      [issuer, subject],
    );
    return row?.name ?? null;
  }

  /**
   * The user of a provider identity: linked by (issuer, subject), or created on the first sign-in
   * (CONFLICT when a user of that name exists and is not linked to it: an administrator decides);
   * display name and e-mail follow the provider's. The memberships of `groups` (Sluice group
   * names) are made to match, touching only those sign-in granted: added where missing, removed
   * where no longer listed. One transaction, which carries the audit row of the sign-in.
   */
  async signIn(identity: OidcIdentity, groups: readonly string[]): Promise<OidcSignInResult> {
    try {
      return await auditedTransaction(this.db, async (m) => {
        const [linked] = await queryReturning<{ id: string; name: string }>(
          m,
          `UPDATE identity_users u SET display_name = $3, email = $4 FROM identity_oidc_links l
            WHERE l.issuer = $1 AND l.subject = $2 AND u.id = l.user_id RETURNING u.id, u.name`,
          [identity.issuer, identity.subject, identity.displayName, identity.email],
        );
        let user = linked;
        const created = !linked;
        if (!user) {
          [user] = await queryReturning<{ id: string; name: string }>(
            m,
            `INSERT INTO identity_users (name, display_name, email, created_by) VALUES ($1, $2, $3, 'oidc')
             RETURNING id, name`,
            [identity.name, identity.displayName, identity.email],
          );
          await m.query(`INSERT INTO identity_oidc_links (issuer, subject, user_id) VALUES ($1, $2, $3)`, [
            identity.issuer,
            identity.subject,
            user!.id,
          ]);
        } else {
          await m.query(
            `UPDATE identity_oidc_links SET last_sign_in_at = now() WHERE issuer = $1 AND subject = $2`,
            [identity.issuer, identity.subject],
          );
        }
        const { added, removed, missing } = await this.syncGroups(m, user!.id, groups);
        return { user: user!.name, created, added, removed, missing };
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new DomainError(
          "CONFLICT",
          `A Sluice user named "${identity.name}" exists already and is not linked to this provider account; an administrator must rename or remove it first.`,
        );
      }
      throw error;
    }
  }

  private async syncGroups(
    m: EntityManager,
    userId: string,
    groups: readonly string[],
  ): Promise<{ added: string[]; removed: string[]; missing: string[] }> {
    // Groups of the default account only, where single sign-on's users live: another account's
    // group of the same name grants nothing here.
    const wanted: Array<{ id: string; name: string }> = await m.query(
      `SELECT id, name FROM identity_groups WHERE account = 'default' AND name = ANY($1::text[]) ORDER BY name`,
      [[...groups]],
    );
    const missing = groups.filter((g) => !wanted.some((w) => w.name === g));
    const removed = await queryReturning<{ name: string }>(
      m,
      `WITH gone AS (
         DELETE FROM identity_oidc_group_grants WHERE user_id = $1 AND NOT (group_id = ANY($2::uuid[]))
         RETURNING group_id
       ), left_group AS (
         DELETE FROM identity_group_members gm USING gone WHERE gm.group_id = gone.group_id AND gm.user_id = $1
         RETURNING gm.group_id
       )
       SELECT g.name FROM left_group JOIN identity_groups g ON g.id = left_group.group_id ORDER BY g.name`,
      [userId, wanted.map((w) => w.id)],
    );
    const added: string[] = [];
    for (const group of wanted) {
      const joined = await queryReturning(
        m,
        `INSERT INTO identity_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
         RETURNING group_id`,
        [group.id, userId],
      );
      // Only a membership sign-in made is sign-in's to remove later.
      if (joined.length > 0) {
        added.push(group.name);
        await m.query(
          `INSERT INTO identity_oidc_group_grants (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [userId, group.id],
        );
      }
    }
    return { added, removed: removed.map((r) => r.name), missing };
  }
}
