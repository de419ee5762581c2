import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * How many executions each pipeline has in each status, kept by the statements that change them
 * (the engine's decision, retention's deletion, an archive's import): what `/metrics` serves as
 * `sluice_executions`, read without counting the executions' history at every scrape. A row whose
 * count fell to 0 stays (the next execution in that status reuses it) and is not served. No CHECK
 * on the count: an upsert's proposed row carries the change (-1 for a status left), and PostgreSQL
 * checks constraints on it before it finds the row it updates.
 */
export class ExecutionCounts1768040000000 implements MigrationInterface {
  name = "ExecutionCounts1768040000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE execution_counts (
         pipeline_id uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
         status text NOT NULL,
         count bigint NOT NULL,
         PRIMARY KEY (pipeline_id, status))`,
    );
    await q.query(
      `INSERT INTO execution_counts (pipeline_id, status, count)
       SELECT pipeline_id, status, count(*) FROM pipeline_executions GROUP BY pipeline_id, status`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE execution_counts`);
  }
}
