import type { DataSource } from "typeorm";

/** A schedule of a pipeline's current document, mirrored in `pipeline_schedules`. */
export interface ScheduleRow {
  pipelineId: string;
  /** The pipeline's account (its name is unique there). */
  account: string;
  pipelineName: string;
  cron: string;
  timezone: string;
  nextAt: Date;
}

export interface WantedSchedule {
  pipelineId: string;
  cron: string;
  timezone: string;
}

/** `pipeline_schedules`: the schedules of the current documents with their next time (engine/scheduler.ts). */
export class ScheduleStore {
  constructor(private readonly db: DataSource) {}

  /** The schedules the current documents declare (timezone UTC when they name none). */
  async declared(): Promise<WantedSchedule[]> {
    const rows: Array<{ id: string; schedules: Array<{ cron: string; timezone: string | null }> }> =
      await this.db.query(
        `SELECT id, document->'schedules' AS schedules FROM pipelines
          WHERE json_typeof(document->'schedules') = 'array' AND json_array_length(document->'schedules') > 0`,
      );
    return rows.flatMap((row) =>
      row.schedules.map((s) => ({ pipelineId: row.id, cron: s.cron, timezone: s.timezone ?? "UTC" })),
    );
  }

  /**
   * Keeps exactly the `wanted` schedules, in one transaction: the others are removed, a new one
   * is added with its next time (`next`; one that never fires is not added), one already there
   * keeps its own.
   */
  async mirror(wanted: WantedSchedule[], next: (schedule: WantedSchedule) => Date | null): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(
        `DELETE FROM pipeline_schedules ps WHERE NOT EXISTS (
           SELECT 1 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS w(pipeline_id, cron, timezone)
            WHERE w.pipeline_id = ps.pipeline_id AND w.cron = ps.cron AND w.timezone = ps.timezone)`,
        [wanted.map((w) => w.pipelineId), wanted.map((w) => w.cron), wanted.map((w) => w.timezone)],
      );
      for (const w of wanted) {
        const at = next(w);
        if (at === null) continue;
        await m.query(
          `INSERT INTO pipeline_schedules (pipeline_id, cron, timezone, next_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (pipeline_id, cron, timezone) DO NOTHING`,
          [w.pipelineId, w.cron, w.timezone, at],
        );
      }
    });
  }

  /** Up to `limit` schedules due at `now`, the longest due first. */
  async due(now: Date, limit: number): Promise<ScheduleRow[]> {
    return this.db.query(
      `SELECT ps.pipeline_id AS "pipelineId", p.account, p.name AS "pipelineName", ps.cron, ps.timezone,
              ps.next_at AS "nextAt"
         FROM pipeline_schedules ps JOIN pipelines p ON p.id = ps.pipeline_id
        WHERE ps.next_at <= $1 ORDER BY ps.next_at LIMIT $2`,
      [now, limit],
    );
  }

  /**
   * Fires one due schedule: in a transaction that holds its row (skipped when another copy holds
   * it or it fired already: false), runs `fire`, then moves the schedule to the time `fire`
   * returned. When `fire` throws, the schedule stays due.
   */
  async fire(schedule: ScheduleRow, now: Date, fire: () => Promise<Date>): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const held: unknown[] = await m.query(
        `SELECT 1 FROM pipeline_schedules WHERE pipeline_id = $1 AND cron = $2 AND timezone = $3
            AND next_at <= $4 FOR UPDATE SKIP LOCKED`,
        [schedule.pipelineId, schedule.cron, schedule.timezone, now],
      );
      if (held.length === 0) return false;
      const next = await fire();
      await m.query(
        `UPDATE pipeline_schedules SET next_at = $4, last_fired_at = $5
          WHERE pipeline_id = $1 AND cron = $2 AND timezone = $3`,
        [schedule.pipelineId, schedule.cron, schedule.timezone, next, now],
      );
      return true;
    });
  }
}
