import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Accounts (tenants) and roles (docs/policies.md, "Accounts and delegation"). An installation holds
 * one or more accounts; what existed before lives in `default`. Users, groups, service accounts,
 * customer policies and attachments belong to an account (names are unique per account). A role
 * lives in an account, has attached policies and a trust policy; assumeRole issues an API token
 * (api_tokens) owned by the real principal and bound to the role (`role_id`, `session_name`),
 * with an expiry. Audit rows carry the account acted in, the real principal's account and the
 * assumed role, so that both accounts see them. Pipelines, agents and notifications stay in the
 * default account for now.
 */
export class Accounts1767300000000 implements MigrationInterface {
  name = "Accounts1767300000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL
      )`);
    await q.query(
      `INSERT INTO accounts (id, description, created_by) VALUES ('default', 'The installation''s first account', 'sluice')`,
    );
    for (const table of ["identity_users", "identity_groups", "identity_service_accounts"]) {
      await q.query(
        `ALTER TABLE ${table} ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES accounts (id)`,
      );
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_name_key`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_account_name_key UNIQUE (account, name)`);
    }
    await q.query(
      `ALTER TABLE identity_policies ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES accounts (id)`,
    );
    await q.query(`ALTER TABLE identity_policies DROP CONSTRAINT identity_policies_pkey`);
    await q.query(`ALTER TABLE identity_policies ADD PRIMARY KEY (account, name)`);

    await q.query(
      `ALTER TABLE policy_attachments ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES accounts (id)`,
    );
    await q.query(`ALTER TABLE policy_attachments DROP CONSTRAINT policy_attachments_pkey`);
    await q.query(
      `ALTER TABLE policy_attachments ADD PRIMARY KEY (account, principal_kind, principal_name, policy_name)`,
    );
    await q.query(`ALTER TABLE policy_attachments DROP CONSTRAINT policy_attachments_principal_kind_check`);
    await q.query(
      `ALTER TABLE policy_attachments ADD CONSTRAINT policy_attachments_principal_kind_check
         CHECK (principal_kind IN ('user', 'group', 'service-account', 'role'))`,
    );
    await q.query(`DROP INDEX policy_attachments_policy_idx`);
    await q.query(`CREATE INDEX policy_attachments_policy_idx ON policy_attachments (account, policy_name)`);

    await q.query(`
      CREATE TABLE identity_roles (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account text NOT NULL REFERENCES accounts (id),
        name text NOT NULL,
        description text,
        trust_policy jsonb NOT NULL,
        max_session_seconds integer NOT NULL DEFAULT 3600 CHECK (max_session_seconds BETWEEN 60 AND 43200),
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL,
        UNIQUE (account, name)
      )`);
    await q.query(`
      ALTER TABLE api_tokens
        ADD COLUMN role_id uuid REFERENCES identity_roles (id) ON DELETE CASCADE,
        ADD COLUMN session_name text,
        ADD CONSTRAINT api_tokens_role_session_check
          CHECK ((role_id IS NULL) = (session_name IS NULL) AND (role_id IS NULL OR expires_at IS NOT NULL))`);

    await q.query(`
      ALTER TABLE audit_events
        ADD COLUMN account text NOT NULL DEFAULT 'default',
        ADD COLUMN principal_account text NOT NULL DEFAULT 'default',
        ADD COLUMN assumed_role text`);
    await q.query(`CREATE INDEX audit_events_account_idx ON audit_events (account, id DESC)`);
    await q.query(
      `CREATE INDEX audit_events_principal_account_idx ON audit_events (principal_account, id DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_events_principal_account_idx`);
    await q.query(`DROP INDEX audit_events_account_idx`);
    await q.query(
      `ALTER TABLE audit_events DROP COLUMN assumed_role, DROP COLUMN principal_account, DROP COLUMN account`,
    );
    await q.query(`DELETE FROM api_tokens WHERE role_id IS NOT NULL`);
    await q.query(
      `ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_session_check, DROP COLUMN session_name, DROP COLUMN role_id`,
    );
    await q.query(`DROP TABLE identity_roles`);
    // Back to one account: what other accounts held goes.
    await q.query(`DELETE FROM policy_attachments WHERE account <> 'default' OR principal_kind = 'role'`);
    await q.query(`DELETE FROM identity_policies WHERE account <> 'default'`);
    for (const table of ["identity_users", "identity_groups", "identity_service_accounts"]) {
      await q.query(`DELETE FROM ${table} WHERE account <> 'default'`);
    }
    await q.query(`DROP INDEX policy_attachments_policy_idx`);
    await q.query(`CREATE INDEX policy_attachments_policy_idx ON policy_attachments (policy_name)`);
    await q.query(`ALTER TABLE policy_attachments DROP CONSTRAINT policy_attachments_principal_kind_check`);
    await q.query(
      `ALTER TABLE policy_attachments ADD CONSTRAINT policy_attachments_principal_kind_check
         CHECK (principal_kind IN ('user', 'group', 'service-account'))`,
    );
    await q.query(`ALTER TABLE policy_attachments DROP CONSTRAINT policy_attachments_pkey`);
    await q.query(
      `ALTER TABLE policy_attachments ADD PRIMARY KEY (principal_kind, principal_name, policy_name)`,
    );
    await q.query(`ALTER TABLE policy_attachments DROP COLUMN account`);
    await q.query(`ALTER TABLE identity_policies DROP CONSTRAINT identity_policies_pkey`);
    await q.query(`ALTER TABLE identity_policies ADD PRIMARY KEY (name)`);
    await q.query(`ALTER TABLE identity_policies DROP COLUMN account`);
    for (const table of ["identity_users", "identity_groups", "identity_service_accounts"]) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_account_name_key`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_name_key UNIQUE (name)`);
      await q.query(`ALTER TABLE ${table} DROP COLUMN account`);
    }
    await q.query(`DROP TABLE accounts`);
  }
}
