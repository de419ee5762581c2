/**
 * The agent's concurrency slots. Pull loops wait for a free slot before they ask for a job, and a
 * job that arrives takes a slot only if one is still free (two pulls can be answered at once).
 */
export class Slots {
  private used = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  tryTake(): boolean {
    if (this.used >= this.capacity) return false;
    this.used += 1;
    return true;
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when a slot is free (it does not take it), or when `signal` aborts. */
  async whenFree(signal: AbortSignal): Promise<void> {
    while (this.used >= this.capacity && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.waiters.push(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }
}
