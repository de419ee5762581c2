import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The typed outbox (persistence/outbox-store.ts): each row says what it carries (`kind`) and how it
 * leaves (`transport`), so the relay never reads either from the subject. Rows written before are
 * given theirs once, here, from their subject (`<prefix>.jobs.…`, `<prefix>.cancel.<job>`,
 * `<prefix>.agents.<agent>.cancel`, `<prefix>.events.<pipeline>`; a definition change's event by
 * its `definition:` message id). The notifications trigger takes pipeline events by kind too,
 * instead of by the shape of their payload.
 */
export class TypedOutbox1768030000000 implements MigrationInterface {
  name = "TypedOutbox1768030000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE outbox_kind AS ENUM ('job', 'cancel', 'pipelineEvent', 'definitionEvent')`);
    await q.query(`CREATE TYPE outbox_transport AS ENUM ('jetstream', 'core')`);
    await q.query(`ALTER TABLE outbox ADD COLUMN kind outbox_kind, ADD COLUMN transport outbox_transport`);
    await q.query(`
      UPDATE outbox SET
        kind = (CASE
          WHEN split_part(subject, '.', 2) = 'jobs' THEN 'job'
          WHEN split_part(subject, '.', 2) = 'cancel' THEN 'cancel'
          WHEN split_part(subject, '.', 2) = 'agents' AND split_part(subject, '.', 4) = 'cancel' THEN 'cancel'
          WHEN split_part(subject, '.', 2) = 'events' AND msg_id LIKE 'definition:%' THEN 'definitionEvent'
          WHEN split_part(subject, '.', 2) = 'events' THEN 'pipelineEvent'
        END)::outbox_kind,
        transport = (CASE WHEN split_part(subject, '.', 2) = 'agents' THEN 'core' ELSE 'jetstream' END)::outbox_transport`);
    // No version wrote any other subject; a row that has one could not be sent as anything.
    await q.query(`DELETE FROM outbox WHERE kind IS NULL`);
    await q.query(`ALTER TABLE outbox ALTER COLUMN kind SET NOT NULL, ALTER COLUMN transport SET NOT NULL`);
    await q.query(`
      CREATE OR REPLACE FUNCTION notification_capture() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO notification_inbox (msg_id, payload)
        SELECT n.msg_id, n.payload FROM inserted n
         WHERE n.kind IN ('pipelineEvent', 'definitionEvent')
           AND EXISTS (
             SELECT 1 FROM notification_rules r
              WHERE r.enabled
                AND (r.pipeline_name IS NULL OR r.pipeline_name = n.payload->>'pipelineName')
                AND r.event_types && ARRAY[n.payload->>'type',
                      CASE WHEN n.payload->>'type' = 'STAGE_SUCCEEDED' THEN 'STAGE_ROLLED_BACK' END])
         ORDER BY n.id;
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The function as 1765900000000-Notifications made it: pipeline events by their payload's shape.
    await q.query(`
      CREATE OR REPLACE FUNCTION notification_capture() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO notification_inbox (msg_id, payload)
        SELECT n.msg_id, n.payload FROM inserted n
         WHERE n.payload ? 'type' AND n.payload ? 'pipelineName' AND n.payload ? 'at'
           AND EXISTS (
             SELECT 1 FROM notification_rules r
              WHERE r.enabled
                AND (r.pipeline_name IS NULL OR r.pipeline_name = n.payload->>'pipelineName')
                AND r.event_types && ARRAY[n.payload->>'type',
                      CASE WHEN n.payload->>'type' = 'STAGE_SUCCEEDED' THEN 'STAGE_ROLLED_BACK' END])
         ORDER BY n.id;
        RETURN NULL;
      END $$`);
    await q.query(`ALTER TABLE outbox DROP COLUMN transport, DROP COLUMN kind`);
    await q.query(`DROP TYPE outbox_transport`);
    await q.query(`DROP TYPE outbox_kind`);
  }
}
