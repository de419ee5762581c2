import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * One webhook per pipeline: the secret pushes are signed with (GitHub's HMAC, GitLab's token).
 * It is kept as it is, not hashed: checking an HMAC needs the secret itself.
 */
export class Webhooks1764300000000 implements MigrationInterface {
  name = "Webhooks1764300000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pipeline_webhooks (
        pipeline_id uuid PRIMARY KEY REFERENCES pipelines (id) ON DELETE CASCADE,
        secret text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_delivery_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pipeline_webhooks`);
  }
}
