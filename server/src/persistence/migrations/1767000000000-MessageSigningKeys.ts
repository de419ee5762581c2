import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The keys that sign the server's messages to agents (PROTOCOL.md 11.5): ed25519, the private half
 * held as a secret-vault envelope (`sluice:enc:v1:…`, a data key wrapped by the master key), never
 * in clear. The newest key not retired signs; every key not retired is sent to agents.
 */
export class MessageSigningKeys1767000000000 implements MigrationInterface {
  name = "MessageSigningKeys1767000000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE message_signing_keys (
        public_key text PRIMARY KEY,
        seed_envelope text NOT NULL CHECK (seed_envelope LIKE 'sluice:enc:v1:%'),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        retired_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE message_signing_keys`);
  }
}
