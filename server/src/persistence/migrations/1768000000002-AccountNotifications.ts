import type { MigrationInterface, QueryRunner } from "typeorm";

/** The capture of pipeline events for the rules that may want them; `accountMatch` is added SQL. */
const capture = (accountMatch: string) => `
  CREATE OR REPLACE FUNCTION notification_capture() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO notification_inbox (msg_id, payload)
    SELECT n.msg_id, n.payload FROM inserted n
     WHERE n.payload ? 'type' AND n.payload ? 'pipelineName' AND n.payload ? 'at'
       AND EXISTS (
         SELECT 1 FROM notification_rules r
          WHERE r.enabled${accountMatch}
            AND (r.pipeline_name IS NULL OR r.pipeline_name = n.payload->>'pipelineName')
            AND r.event_types && ARRAY[n.payload->>'type',
                  CASE WHEN n.payload->>'type' = 'STAGE_SUCCEEDED' THEN 'STAGE_ROLLED_BACK' END])
     ORDER BY n.id;
    RETURN NULL;
  END $$`;

/**
 * Notification rules, targets and deliveries belong to an account (docs/policies.md, "Accounts and
 * delegation"): names are unique per account, a rule sends to targets of its account, and only the
 * events of its account's pipelines (`account` in the event; absent: default) reach it. Existing
 * rows are the default account's.
 */
export class AccountNotifications1768000000002 implements MigrationInterface {
  name = "AccountNotifications1768000000002";

  async up(q: QueryRunner): Promise<void> {
    for (const table of ["notification_targets", "notification_rules"]) {
      await q.query(
        `ALTER TABLE ${table} ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES accounts (id)`,
      );
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_name_key`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_account_name_key UNIQUE (account, name)`);
    }
    await q.query(`ALTER TABLE notification_deliveries ADD COLUMN account text NOT NULL DEFAULT 'default'`);
    await q.query(capture(`\n            AND r.account = COALESCE(n.payload->>'account', 'default')`));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(capture(""));
    await q.query(`DELETE FROM notification_deliveries WHERE account <> 'default'`);
    await q.query(`ALTER TABLE notification_deliveries DROP COLUMN account`);
    for (const table of ["notification_rules", "notification_targets"]) {
      await q.query(`DELETE FROM ${table} WHERE account <> 'default'`);
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_account_name_key`);
      await q.query(`ALTER TABLE ${table} DROP COLUMN account`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_name_key UNIQUE (name)`);
    }
  }
}
