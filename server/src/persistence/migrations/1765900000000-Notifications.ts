import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Notifications (docs/notifications.md): targets, rules, the inbox of pipeline events a rule may
 * want, deliveries and their attempts.
 *
 * The inbox is filled by a statement-level trigger on `outbox`, so an event reaches it in the
 * transaction that decided it (nothing is lost between the commit and the dispatcher) with one
 * extra INSERT … SELECT per statement, and only for events some enabled rule names: with no rule,
 * the engine's write costs one probe of an empty table.
 */
export class Notifications1765900000000 implements MigrationInterface {
  name = "Notifications1765900000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_targets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        kind text NOT NULL,
        settings jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        consecutive_failures integer NOT NULL DEFAULT 0,
        circuit_open_until timestamptz,
        last_error text
      )`);
    await q.query(`
      CREATE TABLE notification_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        pipeline_name text,
        event_types text[] NOT NULL,
        filter jsonb,
        detail_level text NOT NULL,
        enabled boolean NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE notification_rule_targets (
        rule_id uuid NOT NULL REFERENCES notification_rules (id) ON DELETE CASCADE,
        target_id uuid NOT NULL REFERENCES notification_targets (id) ON DELETE RESTRICT,
        PRIMARY KEY (rule_id, target_id)
      )`);
    await q.query(
      `CREATE INDEX notification_rule_targets_target_idx ON notification_rule_targets (target_id)`,
    );
    await q.query(`
      CREATE TABLE notification_inbox (
        id bigserial PRIMARY KEY,
        msg_id text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE notification_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_key text NOT NULL,
        rule_id uuid REFERENCES notification_rules (id) ON DELETE SET NULL,
        rule_name text NOT NULL,
        target_id uuid NOT NULL REFERENCES notification_targets (id) ON DELETE CASCADE,
        pipeline_name text NOT NULL,
        event_type text NOT NULL,
        execution_id uuid,
        notification jsonb NOT NULL,
        status text NOT NULL DEFAULT 'PENDING',
        attempts integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        give_up_at timestamptz NOT NULL,
        claimed_until timestamptz,
        delivered_at timestamptz,
        last_status_code integer,
        last_latency_ms integer,
        last_error text,
        CONSTRAINT notification_deliveries_once UNIQUE (event_key, rule_id, target_id)
      )`);
    await q.query(
      `CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at) WHERE status = 'PENDING'`,
    );
    await q.query(
      `CREATE INDEX notification_deliveries_created_idx ON notification_deliveries (created_at DESC, id DESC)`,
    );
    await q.query(`
      CREATE TABLE notification_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        ok boolean NOT NULL,
        status_code integer,
        latency_ms integer NOT NULL,
        error text
      )`);
    await q.query(
      `CREATE INDEX notification_attempts_delivery_idx ON notification_attempts (delivery_id, id)`,
    );
    // Pipeline events only (their payload has a type and a pipeline; jobs and cancels do not), and
    // only those an enabled rule may want. A rollback's STAGE_SUCCEEDED may be STAGE_ROLLED_BACK.
    await q.query(`
      CREATE FUNCTION notification_capture() RETURNS trigger LANGUAGE plpgsql AS $$
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
    await q.query(`
      CREATE TRIGGER outbox_notifications AFTER INSERT ON outbox
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION notification_capture()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER outbox_notifications ON outbox`);
    await q.query(`DROP FUNCTION notification_capture()`);
    for (const table of [
      "notification_attempts",
      "notification_deliveries",
      "notification_inbox",
      "notification_rule_targets",
      "notification_rules",
      "notification_targets",
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
