import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The signed webhook bodies received lately (a SHA-256 of the pipeline, the proof and the body),
 * with the delivery id they came with: a captured push sent again under a new or missing delivery
 * id is refused, by every server copy. Rows older than the replay window are deleted as new ones
 * arrive (WebhookStore.recordDelivery).
 */
export class WebhookDeliveries1764810000000 implements MigrationInterface {
  name = "WebhookDeliveries1764810000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_deliveries (
        digest text PRIMARY KEY,
        pipeline_id uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
        delivery_id text,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_received_at ON webhook_deliveries (received_at)`);
    await q.query(`CREATE INDEX webhook_deliveries_pipeline ON webhook_deliveries (pipeline_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
  }
}
