import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The secret store (persistence/secret-store.ts): named secrets, each value version an envelope
 * (`sluice:enc:v1:`) under a data key of its own secret, so that `sluice admin rotate-key`
 * re-wraps them with every other data key and deleting a secret destroys its key. And a `scope` on
 * data keys: the one data key of the installation's other secrets (webhook secrets, notification
 * target credentials, the lease key), which the server encrypts at its next start
 * (SecretVault.encryptInstallationSecrets): this migration cannot, it has no master key.
 */
export class SecretStore1767100000000 implements MigrationInterface {
  name = "SecretStore1767100000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE secret_data_keys ADD COLUMN scope text`);
    await q.query(
      `CREATE UNIQUE INDEX secret_data_keys_scope_idx ON secret_data_keys (scope) WHERE scope IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE stored_secrets (
        name text PRIMARY KEY,
        description text,
        data_key_id uuid NOT NULL REFERENCES secret_data_keys (id),
        latest_version integer NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE stored_secret_versions (
        name text NOT NULL REFERENCES stored_secrets (name) ON DELETE CASCADE,
        version integer NOT NULL,
        value text NOT NULL CHECK (value LIKE 'sluice:enc:v1:%'),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stored_secret_versions`);
    await q.query(`DROP TABLE stored_secrets`);
    await q.query(`DROP INDEX secret_data_keys_scope_idx`);
    await q.query(`ALTER TABLE secret_data_keys DROP COLUMN scope`);
  }
}
