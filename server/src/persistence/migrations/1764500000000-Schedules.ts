import type { MigrationInterface, QueryRunner } from "typeorm";

/** The schedules of the pipelines' current documents, and when each fires next (Scheduler). */
export class Schedules1764500000000 implements MigrationInterface {
  name = "Schedules1764500000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pipeline_schedules (
        pipeline_id uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
        cron text NOT NULL,
        timezone text NOT NULL,
        next_at timestamptz NOT NULL,
        last_fired_at timestamptz,
        PRIMARY KEY (pipeline_id, cron, timezone)
      )`);
    await q.query(`CREATE INDEX pipeline_schedules_due_idx ON pipeline_schedules (next_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pipeline_schedules`);
  }
}
