import type { Decision, PipelineEvent } from "../domain/execution";

/**
 * Requests that wait for a job's accept to be applied (the job artifact routes, http/job-artifacts.ts,
 * and the secrets requests, messaging/agent-gateway.ts) are woken by the job's next event instead
 * of polling: the copy that applied the accept says so right after its commit (the engine's
 * `decided` callback), another copy's accept arrives through the event fan-out.
 */

/** What the signals need of the event fan-out (messaging/event-fanout.ts). */
export interface EventSource {
  listen(listener: (event: PipelineEvent) => void): () => void;
}

/**
 * Wakes requests waiting on a job when an event about it arrives (`actionExecutionId` is the job's
 * id): one listener on the fan-out for all of them, a set of waiters per job.
 */
export class JobEventSignals {
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(events: EventSource | undefined) {
    events?.listen((event) => {
      if (event.actionExecutionId) this.wake(event.actionExecutionId);
    });
  }

  /**
   * Wakes the requests waiting on `jobId`. The fan-out calls it for every copy's events; the copy
   * that applied a result calls it at once after its commit (its events reach the fan-out only
   * after the outbox relay has published them).
   */
  wake(jobId: string): void {
    const waiters = this.waiting.get(jobId);
    if (!waiters) return;
    this.waiting.delete(jobId);
    for (const wake of waiters) wake();
  }

  /** After this copy committed `decision`: wakes the requests waiting on the jobs it has events of. */
  decided(decision: Decision): void {
    for (const effect of decision.effects)
      if (effect.type === "Event" && effect.event.actionExecutionId)
        this.wake(effect.event.actionExecutionId);
  }

  /**
   * Starts watching `jobId`: `next(ms)` resolves at its first event since the watch began, or
   * after `ms`; `stop()` ends the watch (always call it).
   */
  watch(jobId: string): { next(ms: number): Promise<void>; stop(): void } {
    let arrived = false;
    let wake: (() => void) | undefined;
    const waiter = () => {
      arrived = true;
      wake?.();
    };
    let set = this.waiting.get(jobId);
    if (!set) this.waiting.set(jobId, (set = new Set()));
    set.add(waiter);
    const stop = () => {
      const current = this.waiting.get(jobId);
      current?.delete(waiter);
      if (current?.size === 0) this.waiting.delete(jobId);
    };
    return {
      next: (ms) =>
        arrived
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, Math.max(0, ms));
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            }),
      stop,
    };
  }

  /** Jobs with a request waiting (for tests). */
  get watched(): number {
    return this.waiting.size;
  }
}

const NO_SIGNALS = new JobEventSignals(undefined);

/**
 * Asks `check` again until `waiting(answer)` says the accept is applied (or the answer is final),
 * for at most `waitMs`: between two asks it waits for the job's next event, or `recheckMs` should
 * none come. Each watch starts before its ask, so an accept applied while the ask ran is not
 * missed. Returns the last answer, or null once `gone()` (nobody waits for it any more).
 */
export async function untilAccepted<T>(
  signals: JobEventSignals | undefined,
  jobId: string,
  check: () => Promise<T>,
  waiting: (answer: T) => boolean,
  options: { waitMs: number; recheckMs?: number; gone?: () => boolean },
): Promise<T | null> {
  const until = Date.now() + options.waitMs;
  for (;;) {
    const watch = (signals ?? NO_SIGNALS).watch(jobId);
    try {
      const answer = await check();
      if (!waiting(answer) || Date.now() >= until) return answer;
      await watch.next(Math.min(options.recheckMs ?? 250, until - Date.now()));
      if (options.gone?.()) return null;
    } finally {
      watch.stop();
    }
  }
}
