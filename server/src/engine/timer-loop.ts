import type { Logger } from "../logger";
import type { ExecutionEngine } from "./execution-engine";
import { Periodic } from "./periodic";

/**
 * Fires durable timers (action and approval timeouts) when they are due. The timers live in
 * PostgreSQL, so they survive restarts; any server copy may fire them.
 */
export class TimerLoop extends Periodic {
  constructor(
    private readonly engine: ExecutionEngine,
    private readonly logger: Logger,
    intervalMs = 500,
  ) {
    super(intervalMs);
  }

  protected async round(): Promise<void> {
    try {
      while (!this.isStopped && (await this.engine.fireDueTimers()) > 0) {
        // more were due: keep going
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "firing timers failed; retrying");
    }
  }
}
