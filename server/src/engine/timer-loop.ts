import type { Logger } from "../logger";
import type { ExecutionEngine } from "./execution-engine";
import { Periodic } from "./periodic";

/** Up to when every result the agents stored has been applied (messaging/results-progress.ts). */
export interface ResultsHorizon {
  appliedUpTo(now: Date): Promise<Date | null>;
}

/**
 * Fires durable timers (action and approval timeouts, retries, leases) when they are due. The
 * timers live in PostgreSQL, so they survive restarts; any server copy may fire them. Leases are
 * judged only up to the results horizon: a heartbeat or complete waiting in the results consumer
 * (PostgreSQL was away, or NATS could not be read) is applied before the lease it would save fires.
 */
export class TimerLoop extends Periodic {
  constructor(
    private readonly engine: ExecutionEngine,
    private readonly results: ResultsHorizon,
    private readonly logger: Logger,
    intervalMs = 500,
  ) {
    super(intervalMs);
  }

  protected async round(): Promise<void> {
    try {
      // Read before the timers: what it covers was applied before they are looked at.
      const leasesDueBy = await this.results.appliedUpTo(this.engine.now());
      while (!this.isStopped && (await this.engine.fireDueTimers(leasesDueBy)) > 0) {
        // more were due: keep going
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "firing timers failed; retrying");
    }
  }
}
