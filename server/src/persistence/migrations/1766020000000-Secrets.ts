import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Envelope encryption of secret configuration values (persistence/secret-vault.ts): the data keys,
 * each wrapped by the master key named by `master_key_id`; the x25519 public key each agent
 * registers, which the server seals a job's secrets for; and the marks of one-time data
 * migrations. The clear values of older installations are encrypted by the server at its next
 * start (SecretVault.encryptExisting): this migration cannot, it has no master key.
 */
export class Secrets1766020000000 implements MigrationInterface {
  name = "Secrets1766020000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE secret_data_keys (
        id uuid PRIMARY KEY,
        master_key_id text NOT NULL,
        wrapped text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        rewrapped_at timestamptz
      )`);
    await q.query(`CREATE INDEX secret_data_keys_master_idx ON secret_data_keys (master_key_id)`);
    await q.query(`ALTER TABLE agents ADD COLUMN public_key text`);
    await q.query(
      `CREATE TABLE data_migrations (name text PRIMARY KEY, done_at timestamptz NOT NULL DEFAULT now())`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE data_migrations`);
    await q.query(`ALTER TABLE agents DROP COLUMN public_key`);
    await q.query(`DROP TABLE secret_data_keys`);
  }
}
