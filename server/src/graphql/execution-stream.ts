/**
 * The `executionEvents` subscription's stream: the events a client missed, then the live ones,
 * without a gap or a repeat between the two, ending when the execution is final.
 */
import { DomainError, NotFoundError } from "../domain/errors";
import type { ExecutionView, PipelineEvent } from "../domain/execution";
import { asyncQueue } from "./async-queue";
import type { GraphQLContext } from "./context";
import { markPerClientStream } from "./subscription-hub";

/**
 * Statuses an execution does not leave by itself. A Failed or Stopped one may still be resumed by
 * `retryStage`: the stream completes all the same (a client that wants the retry's events
 * subscribes again with `afterSequence`, and loses none).
 */
const FINAL_STATUSES: ReadonlySet<string> = new Set([
  "Succeeded",
  "Failed",
  "Stopped",
  "Superseded",
  "Cancelled",
]);

/** An event that says the execution reached a final status. */
export function isFinalEvent(event: PipelineEvent): boolean {
  return (
    event.type.startsWith("EXECUTION_") &&
    event.type !== "EXECUTION_WAITING" &&
    FINAL_STATUSES.has(event.status ?? "")
  );
}

/**
 * With `afterSequence` (0: from the start), the stored events after it are replayed first: the live
 * feed is listened to before the history is read, and its events up to the last replayed one are
 * dropped. Such a stream depends on when it starts, so the hub gives each client its own. Without
 * it, only the changes from now on are sent (shared by the clients of the same subscription).
 * Completes once the execution is final (at once if it already is and nothing is left to send);
 * an unknown execution is a NOT_FOUND error.
 */
export async function followExecution(
  ctx: GraphQLContext,
  executionId: string,
  afterSequence: number | null,
): Promise<AsyncIterableIterator<PipelineEvent>> {
  if (afterSequence !== null && afterSequence < 0) {
    const message = `afterSequence must be 0 or more; it is ${afterSequence}.`;
    throw new DomainError("BAD_USER_INPUT", message, {
      validationErrors: [{ path: "afterSequence", message }],
    });
  }
  if (afterSequence !== null) markPerClientStream(ctx);
  let detach = () => {};
  const queue = asyncQueue<PipelineEvent>(() => detach());
  /** Live events received while the history is read; null once the stream is live. */
  let buffered: PipelineEvent[] | null = [];
  let last = afterSequence ?? 0;
  const send = (event: PipelineEvent): boolean => {
    if (event.sequence !== null && event.sequence <= last) return false;
    if (event.sequence !== null) last = event.sequence;
    queue.push(event);
    return true;
  };
  detach = ctx.events.listen((event) => {
    if (event.executionId !== executionId) return;
    if (buffered !== null) buffered.push(event);
    else if (send(event) && isFinalEvent(event)) queue.close();
  });
  try {
    const row = await ctx.engine.executions.findExecution<ExecutionView>(executionId);
    if (!row) throw new NotFoundError(`No execution ${executionId} exists.`);
    // The state read is as of its sequence; an execution event after it (a retry, the end) says more.
    let final = FINAL_STATUSES.has(row.view.status);
    const note = (event: PipelineEvent) => {
      if (event.sequence === null || event.sequence <= row.view.sequence) return;
      if (event.type.startsWith("EXECUTION_") && event.type !== "EXECUTION_WAITING")
        final = isFinalEvent(event);
    };
    if (afterSequence !== null) {
      for (const event of await ctx.engine.executions.eventsOf<PipelineEvent>(executionId, afterSequence)) {
        if (send(event)) note(event);
      }
    }
    for (const event of buffered) if (send(event)) note(event);
    buffered = null;
    if (final) queue.close();
  } catch (error) {
    detach();
    throw error;
  }
  return queue.iterator;
}
