import { Cron } from "croner";
import type { DataSource } from "typeorm";
import type { Logger } from "../logger";
import type { Clock } from "./clock";
import type { ExecutionEngine } from "./execution-engine";
import { Periodic } from "./periodic";

const TICK_MS = 1000;
const SYNC_MS = 15_000;
const BATCH = 16;

interface ScheduleRow {
  pipelineId: string;
  account: string;
  pipelineName: string;
  cron: string;
  timezone: string;
  nextAt: Date;
}

/** When `cron` (in `timezone`) fires next after `after`; null when it never does. */
export function nextFire(cron: string, timezone: string, after: Date): Date | null {
  return new Cron(cron, { timezone, paused: true }).nextRun(after);
}

/**
 * Starts executions on the pipelines' schedules (trigger Schedule). The schedules of the current
 * documents are mirrored in `pipeline_schedules` with their next time; server copies share the
 * due ones through SKIP LOCKED, and the start's client request token (the schedule and its time)
 * makes one start per firing even if two copies raced. A server that was down for a firing starts
 * it once when it is back, not once per missed time.
 */
export class Scheduler extends Periodic {
  private lastSync = 0;

  constructor(
    private readonly db: DataSource,
    private readonly engine: ExecutionEngine,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    super(TICK_MS);
  }

  /** A document changed: follow it on the next round. */
  markDirty(): void {
    this.lastSync = 0;
  }

  protected async round(): Promise<void> {
    try {
      if (Date.now() - this.lastSync >= SYNC_MS) {
        await this.sync();
        this.lastSync = Date.now();
      }
      await this.fireDue();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "schedules failed; retrying");
    }
  }

  /** Mirrors the schedules of the current documents; a new one gets its next time from now. */
  async sync(): Promise<void> {
    const now = this.clock();
    const rows: Array<{ id: string; schedules: Array<{ cron: string; timezone: string | null }> }> =
      await this.db.query(
        `SELECT id, document->'schedules' AS schedules FROM pipelines
          WHERE json_typeof(document->'schedules') = 'array' AND json_array_length(document->'schedules') > 0`,
      );
    const wanted = rows.flatMap((row) =>
      row.schedules.map((s) => ({ pipelineId: row.id, cron: s.cron, timezone: s.timezone ?? "UTC" })),
    );
    await this.db.transaction(async (m) => {
      await m.query(
        `DELETE FROM pipeline_schedules ps WHERE NOT EXISTS (
           SELECT 1 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS w(pipeline_id, cron, timezone)
            WHERE w.pipeline_id = ps.pipeline_id AND w.cron = ps.cron AND w.timezone = ps.timezone)`,
        [wanted.map((w) => w.pipelineId), wanted.map((w) => w.cron), wanted.map((w) => w.timezone)],
      );
      for (const w of wanted) {
        const next = nextFire(w.cron, w.timezone, now);
        if (next === null) continue;
        await m.query(
          `INSERT INTO pipeline_schedules (pipeline_id, cron, timezone, next_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (pipeline_id, cron, timezone) DO NOTHING`,
          [w.pipelineId, w.cron, w.timezone, next],
        );
      }
    });
  }

  /**
   * Starts an execution for each schedule that is due, then moves it to its next time, in the
   * transaction that holds its row: a start that fails leaves the schedule due, and the next try's
   * client request token (the schedule and its due time) keeps it to one execution.
   */
  async fireDue(): Promise<number> {
    const now = this.clock();
    const due: ScheduleRow[] = await this.db.query(
      `SELECT ps.pipeline_id AS "pipelineId", p.account, p.name AS "pipelineName", ps.cron, ps.timezone, ps.next_at AS "nextAt"
         FROM pipeline_schedules ps JOIN pipelines p ON p.id = ps.pipeline_id
        WHERE ps.next_at <= $1 ORDER BY ps.next_at LIMIT $2`,
      [now, BATCH],
    );
    let fired = 0;
    for (const row of due) {
      try {
        await this.db.transaction(async (m) => {
          const held: unknown[] = await m.query(
            `SELECT 1 FROM pipeline_schedules WHERE pipeline_id = $1 AND cron = $2 AND timezone = $3
                AND next_at <= $4 FOR UPDATE SKIP LOCKED`,
            [row.pipelineId, row.cron, row.timezone, now],
          );
          if (held.length === 0) return; // another copy has it, or it fired already
          const at = new Date(row.nextAt).toISOString();
          await this.engine.releaseChange({
            account: row.account,
            pipelineName: row.pipelineName,
            clientRequestToken: `schedule:${row.cron}|${row.timezone}|${at}`.slice(0, 128),
            trigger: { triggerType: "Schedule", triggerDetail: `${row.cron} (${row.timezone}), due ${at}` },
          });
          const next = nextFire(row.cron, row.timezone, now) ?? new Date("9999-01-01T00:00:00Z");
          await m.query(
            `UPDATE pipeline_schedules SET next_at = $4, last_fired_at = $5
              WHERE pipeline_id = $1 AND cron = $2 AND timezone = $3`,
            [row.pipelineId, row.cron, row.timezone, next, now],
          );
          fired++;
        });
      } catch (error) {
        this.logger.error(
          { err: error, pipeline: row.pipelineName, cron: row.cron },
          "scheduled start failed",
        );
      }
    }
    return fired;
  }
}
