import crypto from "node:crypto";
import type { DataSource } from "typeorm";
import { auditedTransaction } from "./audit-store";
import { sealWebhookSecret } from "./installation-secrets";
import { queryReturning } from "./returning";
import type { SecretVault } from "./secret-vault";

/**
 * The webhook of each pipeline: its secret, kept to check signatures, encrypted at rest
 * (persistence/installation-secrets.ts) and opened when a push is checked.
 */
/** How long a signed body is remembered: sent again within this, it is a replay (unless redelivered). */
export const REPLAY_WINDOW_SECONDS = 24 * 3600;

export class WebhookStore {
  constructor(
    private readonly db: DataSource,
    private readonly vault: SecretVault,
  ) {}

  async create(pipelineId: string, createdBy: string): Promise<{ secret: string; createdAt: Date }> {
    const secret = crypto.randomBytes(32).toString("base64url");
    const [row]: Array<{ createdAt: Date }> = await auditedTransaction(this.db, async (m) =>
      m.query(
        `INSERT INTO pipeline_webhooks (pipeline_id, secret, created_by) VALUES ($1, $2, $3)
         ON CONFLICT (pipeline_id) DO UPDATE SET secret = EXCLUDED.secret, created_by = EXCLUDED.created_by,
           created_at = now(), last_delivery_at = NULL
         RETURNING created_at AS "createdAt"`,
        [pipelineId, await sealWebhookSecret(this.vault, secret, m), createdBy],
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
    return row ? { ...row, secret: await this.vault.open(row.secret) } : null;
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

  /**
   * Records a verified body (its digest) unless it was received within `windowSeconds` already.
   * "new": first seen; "redelivery": seen with this same delivery id (a host's redelivery, which
   * the delivery id makes start nothing new); "replay": seen under another or no delivery id.
   * Older rows go in the same statement, so the table holds one window of deliveries.
   */
  async recordDelivery(
    pipelineId: string,
    digest: string,
    deliveryId: string | null,
    windowSeconds: number,
  ): Promise<"new" | "redelivery" | "replay"> {
    const rows: Array<{ inserted: boolean; deliveryId: string | null }> = await queryReturning(
      this.db,
      `WITH purged AS (
         DELETE FROM webhook_deliveries WHERE received_at < now() - make_interval(secs => $4) AND digest <> $2)
       INSERT INTO webhook_deliveries AS d (digest, pipeline_id, delivery_id) VALUES ($2, $1, $3)
       ON CONFLICT (digest) DO UPDATE SET
         delivery_id = CASE WHEN d.received_at < now() - make_interval(secs => $4)
                            THEN EXCLUDED.delivery_id ELSE d.delivery_id END,
         received_at = CASE WHEN d.received_at < now() - make_interval(secs => $4)
                            THEN now() ELSE d.received_at END
       RETURNING (xmax = 0 OR d.received_at = now()) AS inserted, d.delivery_id AS "deliveryId"`,
      [pipelineId, digest, deliveryId, windowSeconds],
    );
    const row = rows[0]!;
    if (row.inserted) return "new";
    return deliveryId !== null && row.deliveryId === deliveryId ? "redelivery" : "replay";
  }

  /** Forgets a delivery that could not be processed, so that the host's retry is not a replay. */
  async forgetDelivery(digest: string): Promise<void> {
    await this.db.query(`DELETE FROM webhook_deliveries WHERE digest = $1`, [digest]);
  }
}
