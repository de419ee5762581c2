import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The trace context of the transaction that wrote an outbox row (docs/tracing.md): W3C
 * `traceparent` and `tracestate` only, null when tracing is off. The relay loop puts them in the
 * NATS headers of the jobs it publishes, as the direct path does, so that a release stays one
 * trace whichever path its jobs took.
 */
export class OutboxTraceContext1767710000000 implements MigrationInterface {
  name = "OutboxTraceContext1767710000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN traceparent text, ADD COLUMN tracestate text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN tracestate, DROP COLUMN traceparent`);
  }
}
