/**
 * Which failures pass with time, in one place (PROTOCOL.md 12.7), and the loop that waits them out.
 *
 * A job's finished work must survive NATS being away for less than a lease: the uploads of its
 * output artifacts, the downloads of its inputs, its accept, heartbeats, log chunks and complete
 * are retried with backoff, with the same de-duplication id, until they are stored or the job is
 * stopped (its lease says otherwise: self-fencing, a cancel, a timeout, the agent leaving).
 * Anything else — a refusal, a file that is not there, a full disk, a digest that does not match —
 * is the job's failure and is reported at once.
 */
import { isTransientNatsError } from "@sluice/protocol";
import { ArtifactError } from "../providers/types";
import { Backoff, sleep } from "./util";

/** True when trying the same thing again later may succeed. */
export function isRetryable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    // An artifact failure passes with time only when what caused it does (a NATS error).
    if (e instanceof ArtifactError) return e.cause !== undefined && isTransientNatsError(e.cause);
    if (isTransientNatsError(e)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export interface RetryOptions {
  /** Stops the retries: the job was stopped, or the agent is leaving. The last error is thrown. */
  signal: AbortSignal;
  /** Called before each wait, for the agent's log. */
  onRetry?: (error: unknown, attempt: number) => void;
  initialMs?: number;
  maxMs?: number;
  /** Retries end, and the last error is thrown, once this many ms have passed (default: none). */
  forMs?: number;
}

/**
 * `operation()` until it succeeds; a failure that is not retryable, or one after `signal` aborted
 * (or `forMs` passed), is thrown.
 */
export async function retrying<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = new Backoff(options.initialMs ?? 250, options.maxMs ?? 2000);
  const deadline = options.forMs === undefined ? Infinity : Date.now() + options.forMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isRetryable(error) || options.signal.aborted || Date.now() >= deadline) throw error;
      options.onRetry?.(error, attempt);
      await sleep(Math.min(backoff.next(), Math.max(0, deadline - Date.now())), options.signal);
      if (options.signal.aborted) throw error;
    }
  }
}
