import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Executions: the per-pipeline runtime state (one row, locked for each event), a snapshot of
 * every execution for queries, the history of its events, durable timers, and the outbox that
 * carries jobs and events to NATS in the same transaction as the state change.
 */
export class Executions1764100000000 implements MigrationInterface {
  name = "Executions1764100000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pipeline_runtimes (
        pipeline_id uuid PRIMARY KEY REFERENCES pipelines (id) ON DELETE CASCADE,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE pipeline_executions (
        id uuid PRIMARY KEY,
        pipeline_id uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
        pipeline_version integer NOT NULL,
        status text NOT NULL,
        trigger_type text NOT NULL,
        client_request_token text,
        start_time timestamptz NOT NULL,
        last_update_time timestamptz NOT NULL,
        sequence integer NOT NULL,
        view jsonb NOT NULL,
        CONSTRAINT pipeline_executions_token_key UNIQUE (pipeline_id, client_request_token)
      )`);
    await q.query(
      `CREATE INDEX pipeline_executions_pipeline_idx ON pipeline_executions (pipeline_id, start_time DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX pipeline_executions_status_idx ON pipeline_executions (pipeline_id, status)`);
    await q.query(`
      CREATE TABLE action_executions (
        id uuid PRIMARY KEY,
        execution_id uuid NOT NULL REFERENCES pipeline_executions (id) ON DELETE CASCADE,
        pipeline_id uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX action_executions_execution_idx ON action_executions (execution_id)`);
    await q.query(`
      CREATE TABLE execution_events (
        execution_id uuid NOT NULL REFERENCES pipeline_executions (id) ON DELETE CASCADE,
        sequence integer NOT NULL,
        event jsonb NOT NULL,
        PRIMARY KEY (execution_id, sequence)
      )`);
    await q.query(`
      CREATE TABLE timers (
        key text PRIMARY KEY,
        pipeline_id uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
        due_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX timers_due_idx ON timers (due_at)`);
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        msg_id text NOT NULL,
        subject text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      "outbox",
      "timers",
      "execution_events",
      "action_executions",
      "pipeline_executions",
      "pipeline_runtimes",
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
