/**
 * A task that runs every `intervalMs` until stopped, never two rounds at once: the next round is
 * scheduled when the last one ended. `stop()` waits for a round in progress. The timer does not
 * keep the process alive.
 */
export abstract class Periodic {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private rounds = 0;

  protected constructor(private readonly intervalMs: number) {}

  /** One round. It must not throw: a round logs its own failures and the next one tries again. */
  protected abstract round(): Promise<void>;

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Rounds ended so far: a round that began after a change has seen it once this grew by two. */
  get roundsDone(): number {
    return this.rounds;
  }

  protected get isStopped(): boolean {
    return this.stopped;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.rounds++;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }
}
