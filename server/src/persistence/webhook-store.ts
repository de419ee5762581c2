import crypto from "node:crypto";
import type { DataSource } from "typeorm";
import { auditedTransaction } from "./audit-store";
import { queryReturning } from "./returning";

/** The webhook of each pipeline: its secret, kept to check signatures. */
export class WebhookStore {
  constructor(private readonly db: DataSource) {}

  async create(pipelineId: string, createdBy: string): Promise<{ secret: string; createdAt: Date }> {
    const secret = crypto.randomBytes(32).toString("base64url");
    const [row]: Array<{ createdAt: Date }> = await auditedTransaction(this.db, (m) =>
      m.query(
        `INSERT INTO pipeline_webhooks (pipeline_id, secret, created_by) VALUES ($1, $2, $3)
         ON CONFLICT (pipeline_id) DO UPDATE SET secret = EXCLUDED.secret, created_by = EXCLUDED.created_by,
           created_at = now(), last_delivery_at = NULL
         RETURNING created_at AS "createdAt"`,
        [pipelineId, secret, createdBy],
      ),
    );
    return { secret, createdAt: row!.createdAt };
  }

  async find(
    pipelineId: string,
  ): Promise<{ secret: string; createdBy: string; createdAt: Date; lastDeliveryAt: Date | null } | null> {
    const [row] = await this.db.query(
      `SELECT secret, created_by AS "createdBy", created_at AS "createdAt", last_delivery_at AS "lastDeliveryAt"
         FROM pipeline_webhooks WHERE pipeline_id = $1`,
      [pipelineId],
    );
    return row ?? null;
  }

  async delete(pipelineId: string): Promise<boolean> {
    const rows = await auditedTransaction(this.db, (m) =>
      queryReturning(m, `DELETE FROM pipeline_webhooks WHERE pipeline_id = $1 RETURNING pipeline_id`, [
        pipelineId,
      ]),
    );
    return rows.length > 0;
  }

  async delivered(pipelineId: string): Promise<void> {
    await this.db.query(`UPDATE pipeline_webhooks SET last_delivery_at = now() WHERE pipeline_id = $1`, [
      pipelineId,
    ]);
  }
}
