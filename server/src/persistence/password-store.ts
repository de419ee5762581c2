import type { DataSource, EntityManager } from "typeorm";
import { DomainError } from "../domain/errors";
import { auditedTransaction } from "./audit-store";
import { queryReturning } from "./returning";
import { transaction } from "./transaction";

/**
 * The description of the API tokens that signIn issues: sessions are API tokens with a short
 * expiry (no sessions table), and this is how signOut and a password change tell them apart from
 * the tokens an operator created for a script.
 */
export const SESSION_TOKEN_DESCRIPTION = "dashboard session (password sign-in)";

/** After how many failures a name is locked, and for how long (doubling up to `maxMs`). */
export interface LockoutPolicy {
  threshold: number;
  baseMs: number;
  maxMs: number;
  /** A name's failures older than this are forgotten. */
  forgetAfterMs: number;
}

export type SignInAttempt =
  | { ok: true }
  /** `lockedUntil`: the name is locked until then (this failure locked it, or it was locked). */
  | { ok: false; lockedUntil: Date | null; now: Date };

/**
 * Users' passwords (argon2id PHC strings made by auth/password-sign-in.ts; never a password) and
 * the failed sign-ins per name with their lockout, in PostgreSQL so that every server copy sees
 * the same counts and locks, across restarts. Kept apart from IdentityStore: the sessions
 * themselves are IdentityStore's API tokens.
 */
export class PasswordStore {
  // Passwords are for users of the default account (the others reach it through roles):
  // every query here names that account, so a name never means another account's user.
  constructor(private readonly db: DataSource) {}

  /**
   * Sets a user's password hash (NOT_FOUND when there is no such user) and revokes the user's
   * sessions but `keepTokenId` (the caller's own, when users change their own password). Audited
   * with the mutation. Returns the ids of the sessions revoked.
   */
  async setPasswordHash(
    user: string,
    hash: string,
    by: string,
    keepTokenId: string | null,
  ): Promise<string[]> {
    return auditedTransaction(this.db, async (m) => {
      const [row]: Array<{ id: string }> = await m.query(
        `SELECT id FROM identity_users WHERE name = $1 AND account = 'default'`,
        [user],
      );
      if (!row) throw new DomainError("NOT_FOUND", `No user named "${user}" exists.`);
      await m.query(
        `INSERT INTO identity_passwords (user_id, password_hash, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now(),
           updated_by = EXCLUDED.updated_by`,
        [row.id, hash, by],
      );
      // A new password ends a lockout earned by guesses at the old one.
      await m.query(`DELETE FROM sign_in_failures WHERE name = $1`, [user]);
      const revoked = await queryReturning<{ id: string }>(
        m,
        `UPDATE api_tokens SET revoked_at = now(), revoked_by = $3
          WHERE user_id = $1 AND description = $2 AND revoked_at IS NULL
            AND (expires_at IS NULL OR expires_at > now()) AND ($4::uuid IS NULL OR id <> $4::uuid)
          RETURNING id`,
        [row.id, SESSION_TOKEN_DESCRIPTION, by, keepTokenId],
      );
      return revoked.map((r) => r.id);
    });
  }

  /** The user's password hash; null when there is no such user or it has no password. */
  async passwordHash(m: EntityManager, user: string): Promise<string | null> {
    const [row]: Array<{ hash: string }> = await m.query(
      `SELECT p.password_hash AS hash FROM identity_passwords p JOIN identity_users u ON u.id = p.user_id
        WHERE u.name = $1 AND u.account = 'default'`,
      [user],
    );
    return row?.hash ?? null;
  }

  /**
   * One sign-in attempt for `name`, with the name's failure row locked: concurrent attempts on one
   * name (from any server copy) take turns, so a burst of guesses gets no more tries than one at a
   * time would. A locked name is refused without checking. Otherwise `check` is given the stored
   * hash (null: no such user, or no password; it must take as long either way) and decides;
   * a success forgets the name's failures, a failure counts and may lock the name:
   * `baseMs · 2^(failures − threshold)`, at most `maxMs`, from the `threshold`th failure on.
   * Not audited here: the caller's mutation writes its audit row with the session it creates, or
   * after the refusal.
   */
  async attempt(
    name: string,
    policy: LockoutPolicy,
    check: (hash: string | null) => Promise<boolean>,
  ): Promise<SignInAttempt> {
    return transaction(this.db, async (m) => {
      await m.query(`INSERT INTO sign_in_failures (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
      const [row]: Array<{
        failures: number;
        lastFailureAt: Date | null;
        lockedUntil: Date | null;
        now: Date;
      }> = await m.query(
        `SELECT failures, last_failure_at AS "lastFailureAt", locked_until AS "lockedUntil", now() AS now
             FROM sign_in_failures WHERE name = $1 FOR UPDATE`,
        [name],
      );
      const { lockedUntil, now } = row!;
      if (lockedUntil && lockedUntil.getTime() > now.getTime()) return { ok: false, lockedUntil, now };
      if (await check(await this.passwordHash(m, name))) {
        await m.query(`DELETE FROM sign_in_failures WHERE name = $1`, [name]);
        return { ok: true };
      }
      const stale =
        !row!.lastFailureAt || now.getTime() - row!.lastFailureAt.getTime() > policy.forgetAfterMs;
      const failures = (stale ? 0 : row!.failures) + 1;
      const lockMs =
        failures >= policy.threshold
          ? Math.min(policy.baseMs * 2 ** Math.min(failures - policy.threshold, 30), policy.maxMs)
          : 0;
      const locked = lockMs > 0 ? new Date(now.getTime() + lockMs) : null;
      await m.query(
        `UPDATE sign_in_failures SET failures = $2, last_failure_at = now(), locked_until = $3 WHERE name = $1`,
        [name, failures, locked],
      );
      // Names tried and given up on (unknown ones too) do not pile up.
      await m.query(
        `DELETE FROM sign_in_failures WHERE name IN (
           SELECT name FROM sign_in_failures
            WHERE last_failure_at < now() - make_interval(secs => $1) AND coalesce(locked_until, '-infinity') < now()
            LIMIT 100)`,
        [policy.forgetAfterMs / 1000],
      );
      return { ok: false, lockedUntil: locked, now };
    });
  }
}
