import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The NATS users signed for agents (messaging/nats-auth.ts): an agent's public nkey, the token it
 * was issued to and when it expires. Revoking a token revokes every key of it that has not expired
 * yet, in the account JWT pushed to nats-server. Rows are dropped once expired (nothing to revoke).
 */
export class AgentNatsUsers1766110000000 implements MigrationInterface {
  name = "AgentNatsUsers1766110000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agent_nats_users (
        public_key text PRIMARY KEY,
        token_id uuid NOT NULL REFERENCES agent_tokens (id) ON DELETE CASCADE,
        agent_id uuid NOT NULL,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX agent_nats_users_token_idx ON agent_nats_users (token_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agent_nats_users`);
  }
}
