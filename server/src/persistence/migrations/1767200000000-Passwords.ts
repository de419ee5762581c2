import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Password sign-in (docs/ARCHITECTURE.md, security): a user's password as an argon2id PHC string
 * (never the password), and the failed sign-ins per user name with the lockout they earned. The
 * lockout rows are keyed by the name asked for, not by a user: unknown names are locked out the
 * same way, so the answers do not tell which users exist. Sessions are API tokens (api_tokens);
 * there is no sessions table.
 */
export class Passwords1767200000000 implements MigrationInterface {
  name = "Passwords1767200000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE identity_passwords (
        user_id uuid PRIMARY KEY REFERENCES identity_users (id) ON DELETE CASCADE,
        password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE sign_in_failures (
        name text PRIMARY KEY,
        failures integer NOT NULL DEFAULT 0,
        last_failure_at timestamptz,
        locked_until timestamptz
      )`);
    await q.query(`CREATE INDEX sign_in_failures_last_idx ON sign_in_failures (last_failure_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sign_in_failures`);
    await q.query(`DROP TABLE identity_passwords`);
  }
}
