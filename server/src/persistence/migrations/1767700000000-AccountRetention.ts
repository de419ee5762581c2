import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Retention per account (docs/backup.md, "Retention"): how long an account keeps its pipelines'
 * finished executions (with their logs and artifacts) and how many per pipeline. A null column
 * inherits the installation's setting (SLUICE_RETENTION_DAYS, SLUICE_RETENTION_MAX_EXECUTIONS); a
 * pipeline's own setting (SLUICE_RETENTION_PIPELINES) beats both. An account without a row
 * inherits everything.
 */
export class AccountRetention1767700000000 implements MigrationInterface {
  name = "AccountRetention1767700000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE account_retention (
        account text PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
        execution_days integer CHECK (execution_days >= 0),
        max_executions integer CHECK (max_executions >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE account_retention`);
  }
}
