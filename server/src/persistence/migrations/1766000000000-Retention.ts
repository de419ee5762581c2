import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Retention (messaging/retention.ts): the executions deleted from the database whose logs and
 * artifacts in NATS are still to be removed. A row is written in the transaction that deletes the
 * execution and removed once NATS has let go of its data, so a crash in between leaks nothing: the
 * next round finishes the work.
 */
export class Retention1766000000000 implements MigrationInterface {
  name = "Retention1766000000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE retention_purges (
        execution_id uuid PRIMARY KEY,
        job_ids text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX pipeline_executions_retention_idx ON pipeline_executions (pipeline_id, last_update_time)`,
    );
    await q.query(`CREATE INDEX audit_events_at_idx ON audit_events (at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_events_at_idx`);
    await q.query(`DROP INDEX pipeline_executions_retention_idx`);
    await q.query(`DROP TABLE retention_purges`);
  }
}
