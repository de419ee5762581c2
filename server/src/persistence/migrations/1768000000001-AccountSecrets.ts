import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Secrets of the secret store belong to an account (docs/policies.md, "Accounts and delegation"):
 * a name is unique in its account, and a pipeline's `{{resolve:secret:NAME}}` names a secret of its
 * own account. Existing secrets are the default account's.
 */
export class AccountSecrets1768000000001 implements MigrationInterface {
  name = "AccountSecrets1768000000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stored_secret_versions DROP CONSTRAINT stored_secret_versions_name_fkey`);
    await q.query(
      `ALTER TABLE stored_secrets ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES accounts (id)`,
    );
    await q.query(`ALTER TABLE stored_secrets DROP CONSTRAINT stored_secrets_pkey`);
    await q.query(`ALTER TABLE stored_secrets ADD PRIMARY KEY (account, name)`);
    await q.query(`ALTER TABLE stored_secret_versions ADD COLUMN account text NOT NULL DEFAULT 'default'`);
    await q.query(`ALTER TABLE stored_secret_versions DROP CONSTRAINT stored_secret_versions_pkey`);
    await q.query(`ALTER TABLE stored_secret_versions ADD PRIMARY KEY (account, name, version)`);
    await q.query(
      `ALTER TABLE stored_secret_versions ADD CONSTRAINT stored_secret_versions_secret_fkey
         FOREIGN KEY (account, name) REFERENCES stored_secrets (account, name) ON DELETE CASCADE`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM stored_secrets WHERE account <> 'default'`);
    await q.query(`ALTER TABLE stored_secret_versions DROP CONSTRAINT stored_secret_versions_secret_fkey`);
    await q.query(`ALTER TABLE stored_secret_versions DROP CONSTRAINT stored_secret_versions_pkey`);
    await q.query(`ALTER TABLE stored_secret_versions DROP COLUMN account`);
    await q.query(`ALTER TABLE stored_secret_versions ADD PRIMARY KEY (name, version)`);
    await q.query(`ALTER TABLE stored_secrets DROP CONSTRAINT stored_secrets_pkey`);
    await q.query(`ALTER TABLE stored_secrets DROP COLUMN account`);
    await q.query(`ALTER TABLE stored_secrets ADD PRIMARY KEY (name)`);
    await q.query(
      `ALTER TABLE stored_secret_versions ADD CONSTRAINT stored_secret_versions_name_fkey
         FOREIGN KEY (name) REFERENCES stored_secrets (name) ON DELETE CASCADE`,
    );
  }
}
