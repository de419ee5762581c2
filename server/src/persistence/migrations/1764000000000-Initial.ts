import type { MigrationInterface, QueryRunner } from "typeorm";

/** Pipelines, their immutable versions, and custom action types. */
export class Initial1764000000000 implements MigrationInterface {
  name = "Initial1764000000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pipelines (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CONSTRAINT pipelines_name_key UNIQUE,
        version integer NOT NULL,
        document json NOT NULL,
        created_by text NOT NULL,
        updated_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_activity_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX pipelines_activity_idx ON pipelines (last_activity_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE pipeline_versions (
        pipeline_id uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
        version integer NOT NULL,
        document json NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pipeline_id, version)
      )`);
    await q.query(`
      CREATE TABLE custom_action_types (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        category text NOT NULL,
        provider text NOT NULL,
        version text NOT NULL,
        definition jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT custom_action_types_key UNIQUE (category, provider, version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE custom_action_types`);
    await q.query(`DROP TABLE pipeline_versions`);
    await q.query(`DROP TABLE pipelines`);
  }
}
