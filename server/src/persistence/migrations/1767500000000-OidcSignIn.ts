import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * OpenID Connect sign-in (auth/oidc-sign-in.ts):
 * - `oidc_sign_in_flows`: a sign-in under way between /auth/oidc/start and the callback, for ten
 *   minutes and used once. Only digests of its secrets: the state's SHA-256 (its key), and the
 *   SHA-256 of the browser's binding secret (an HTTP-only cookie, from which the PKCE verifier is
 *   derived); the nonce is not a secret (it travels in the authorization URL).
 * - `identity_oidc_links`: which user an (issuer, subject) signs in as.
 * - `identity_oidc_group_grants`: the group memberships that sign-in added (only those are ever
 *   removed by it; memberships an administrator made stay).
 */
export class OidcSignIn1767500000000 implements MigrationInterface {
  name = "OidcSignIn1767500000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE oidc_sign_in_flows (
        state_hash bytea PRIMARY KEY,
        browser_hash bytea NOT NULL,
        nonce text NOT NULL,
        next_path text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX oidc_sign_in_flows_expires_idx ON oidc_sign_in_flows (expires_at)`);
    await q.query(`
      CREATE TABLE identity_oidc_links (
        issuer text NOT NULL,
        subject text NOT NULL,
        user_id uuid NOT NULL UNIQUE REFERENCES identity_users (id) ON DELETE CASCADE,
        linked_at timestamptz NOT NULL DEFAULT now(),
        last_sign_in_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (issuer, subject)
      )`);
    await q.query(`
      CREATE TABLE identity_oidc_group_grants (
        user_id uuid NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
        granted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, group_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE identity_oidc_group_grants`);
    await q.query(`DROP TABLE identity_oidc_links`);
    await q.query(`DROP TABLE oidc_sign_in_flows`);
  }
}
