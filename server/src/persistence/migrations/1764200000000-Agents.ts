import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Agents and their tokens. A token is shown once and stored as its SHA-256 (tokens are 32 random
 * bytes, so a slow hash adds nothing). An agent is one (token, name): registering again with the
 * same pair keeps its id. Lease timers name the agent that holds them, so that revoking a token
 * can end its agents' leases at once.
 */
export class Agents1764200000000 implements MigrationInterface {
  name = "Agents1764200000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agent_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        description text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_by text
      )`);
    await q.query(`
      CREATE TABLE agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_id uuid NOT NULL REFERENCES agent_tokens (id) ON DELETE CASCADE,
        name text NOT NULL,
        pool text NOT NULL,
        labels jsonb NOT NULL DEFAULT '{}',
        providers jsonb NOT NULL DEFAULT '[]',
        version text NOT NULL,
        capacity integer NOT NULL,
        protocol_version integer NOT NULL,
        heartbeat_interval_seconds integer NOT NULL,
        status text NOT NULL,
        running jsonb NOT NULL DEFAULT '[]',
        registered_at timestamptz NOT NULL DEFAULT now(),
        last_heartbeat timestamptz NOT NULL DEFAULT now(),
        UNIQUE (token_id, name)
      )`);
    await q.query(`CREATE INDEX agents_pool_idx ON agents (pool, status)`);
    await q.query(`ALTER TABLE timers ADD COLUMN agent_id uuid`);
    await q.query(`CREATE INDEX timers_agent_idx ON timers (agent_id) WHERE agent_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX timers_agent_idx`);
    await q.query(`ALTER TABLE timers DROP COLUMN agent_id`);
    await q.query(`DROP TABLE agents`);
    await q.query(`DROP TABLE agent_tokens`);
  }
}
