import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Pipelines and agent tokens belong to an account (docs/policies.md, "Accounts and delegation").
 * Existing rows are the default account's. A pipeline's name is unique in its account, not in the
 * installation; its executions, logs, artifacts and webhook follow it (they hang off its id). An
 * agent belongs to the account of the token it registered with, and takes only that account's jobs.
 */
export class AccountPipelines1768000000000 implements MigrationInterface {
  name = "AccountPipelines1768000000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE pipelines ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES accounts (id)`,
    );
    await q.query(`ALTER TABLE pipelines DROP CONSTRAINT pipelines_name_key`);
    await q.query(`ALTER TABLE pipelines ADD CONSTRAINT pipelines_account_name_key UNIQUE (account, name)`);
    await q.query(
      `ALTER TABLE agent_tokens ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES accounts (id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agent_tokens DROP COLUMN account`);
    await q.query(`DELETE FROM pipelines WHERE account <> 'default'`);
    await q.query(`ALTER TABLE pipelines DROP CONSTRAINT pipelines_account_name_key`);
    await q.query(`ALTER TABLE pipelines DROP COLUMN account`);
    await q.query(`ALTER TABLE pipelines ADD CONSTRAINT pipelines_name_key UNIQUE (name)`);
  }
}
