import { Cron } from "croner";
import type { Logger } from "../logger";
import type { ScheduleStore } from "../persistence/schedule-store";
import type { Clock } from "./clock";
import type { ExecutionEngine } from "./execution-engine";
import { Periodic } from "./periodic";

const TICK_MS = 1000;
const SYNC_MS = 15_000;
const BATCH = 16;

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
    private readonly store: ScheduleStore,
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
    await this.store.mirror(await this.store.declared(), (w) => nextFire(w.cron, w.timezone, now));
  }

  /**
   * Starts an execution for each schedule that is due, then moves it to its next time, in the
   * transaction that holds its row: a start that fails leaves the schedule due, and the next try's
   * client request token (the schedule and its due time) keeps it to one execution.
   */
  async fireDue(): Promise<number> {
    const now = this.clock();
    let fired = 0;
    for (const row of await this.store.due(now, BATCH)) {
      try {
        const started = await this.store.fire(row, now, async () => {
          const at = new Date(row.nextAt).toISOString();
          await this.engine.releaseChange({
            account: row.account,
            pipelineName: row.pipelineName,
            clientRequestToken: `schedule:${row.cron}|${row.timezone}|${at}`.slice(0, 128),
            trigger: { triggerType: "Schedule", triggerDetail: `${row.cron} (${row.timezone}), due ${at}` },
          });
          return nextFire(row.cron, row.timezone, now) ?? new Date("9999-01-01T00:00:00Z");
        });
        if (started) fired++;
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
