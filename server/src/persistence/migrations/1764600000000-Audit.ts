import type { MigrationInterface, QueryRunner } from "typeorm";

/** Who changed what, when, and how it went: one row per mutation (AuditLog). */
export class Audit1764600000000 implements MigrationInterface {
  name = "Audit1764600000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        principal text NOT NULL,
        operation text NOT NULL,
        pipeline_name text,
        target text,
        arguments jsonb NOT NULL DEFAULT '{}',
        outcome text NOT NULL,
        error text,
        request_id text
      )`);
    await q.query(`CREATE INDEX audit_events_pipeline_idx ON audit_events (pipeline_name, id DESC)`);
    await q.query(`CREATE INDEX audit_events_principal_idx ON audit_events (principal, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
  }
}
