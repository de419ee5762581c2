import type { Logger } from "../logger";
import type { ExecutionEngine } from "./execution-engine";

/**
 * Fires durable timers (action and approval timeouts) when they are due. The timers live in
 * PostgreSQL, so they survive restarts; any server copy may fire them.
 */
export class TimerLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly engine: ExecutionEngine,
    private readonly logger: Logger,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule());
    }, this.intervalMs);
  }

  private async tick(): Promise<void> {
    try {
      while (!this.stopped && (await this.engine.fireDueTimers()) > 0) {
        // more were due: keep going
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "firing timers failed; retrying");
    }
  }
}
