import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Identity (docs/policies.md): users, groups and their members, service accounts, API tokens (only
 * a SHA-256 digest of each secret is kept), customer policies, and the attachments of managed or
 * customer policies to users, groups and service accounts. One account for now: names are unique
 * per installation.
 */
export class Identity1766010000000 implements MigrationInterface {
  name = "Identity1766010000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE identity_users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        display_name text,
        email text,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE identity_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE identity_group_members (
        group_id uuid NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      )`);
    await q.query(`CREATE INDEX identity_group_members_user_idx ON identity_group_members (user_id)`);
    await q.query(`
      CREATE TABLE identity_service_accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash bytea NOT NULL UNIQUE,
        user_id uuid REFERENCES identity_users (id) ON DELETE CASCADE,
        service_account_id uuid REFERENCES identity_service_accounts (id) ON DELETE CASCADE,
        description text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL,
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz,
        revoked_by text,
        CHECK ((user_id IS NULL) <> (service_account_id IS NULL))
      )`);
    await q.query(`
      CREATE TABLE identity_policies (
        name text PRIMARY KEY,
        description text,
        document jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL
      )`);
    // policy_name is a managed policy's name (ReadOnly, Admin, …) or a customer policy's: deleting
    // an attached customer policy is refused in the store, as in IAM.
    await q.query(`
      CREATE TABLE policy_attachments (
        policy_name text NOT NULL,
        principal_kind text NOT NULL CHECK (principal_kind IN ('user', 'group', 'service-account')),
        principal_name text NOT NULL,
        attached_at timestamptz NOT NULL DEFAULT now(),
        attached_by text NOT NULL,
        PRIMARY KEY (principal_kind, principal_name, policy_name)
      )`);
    await q.query(`CREATE INDEX policy_attachments_policy_idx ON policy_attachments (policy_name)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE policy_attachments`);
    await q.query(`DROP TABLE identity_policies`);
    await q.query(`DROP TABLE api_tokens`);
    await q.query(`DROP TABLE identity_service_accounts`);
    await q.query(`DROP TABLE identity_group_members`);
    await q.query(`DROP TABLE identity_groups`);
    await q.query(`DROP TABLE identity_users`);
  }
}
