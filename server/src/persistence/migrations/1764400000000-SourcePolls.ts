import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Git sources that poll for changes (PollIntervalSeconds): the revision last seen on the
 * branch and when to look again. Rows follow the pipelines' current documents (SourcePoller).
 */
export class SourcePolls1764400000000 implements MigrationInterface {
  name = "SourcePolls1764400000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE source_polls (
        pipeline_id uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
        action_name text NOT NULL,
        repository text NOT NULL,
        branch text NOT NULL,
        interval_seconds integer NOT NULL,
        last_revision text,
        last_error text,
        next_poll_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pipeline_id, action_name)
      )`);
    await q.query(`CREATE INDEX source_polls_due_idx ON source_polls (next_poll_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE source_polls`);
  }
}
