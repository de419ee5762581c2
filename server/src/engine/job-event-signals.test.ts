import type { PipelineEvent } from "../domain/execution";
import { JobEventSignals } from "./job-event-signals";

/** A fan-out of the test's own: `emit` hands an event to every listener. */
function fanout() {
  const listeners = new Set<(event: PipelineEvent) => void>();
  return {
    listen(listener: (event: PipelineEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(actionExecutionId: string | undefined) {
      const event = {
        pipelineName: "p",
        type: "ACTION_EXECUTION_STARTED",
        executionId: "e",
        sequence: 1,
        actionExecutionId,
        at: new Date().toISOString(),
      } as unknown as PipelineEvent;
      for (const listener of listeners) listener(event);
    },
  };
}

/** How a wait ended: woken by the event, or by its time. */
async function outcome(wait: Promise<void>, ms: number): Promise<"woken" | "timed out"> {
  const started = process.hrtime.bigint();
  await wait;
  return Number(process.hrtime.bigint() - started) / 1e6 < ms ? "woken" : "timed out";
}

describe("JobEventSignals: a request waiting for its job's accept", () => {
  it("wakes at the first event of its job, not of another", async () => {
    const events = fanout();
    const signals = new JobEventSignals(events);
    const watch = signals.watch("job-1");
    const wait = watch.next(60_000);
    events.emit("job-2");
    events.emit(undefined);
    expect(signals.watched).toBe(1);
    events.emit("job-1");
    expect(await outcome(wait, 60_000)).toBe("woken");
    watch.stop();
    expect(signals.watched).toBe(0);
  });

  it("keeps an event that came before the wait began (between the watch and the check)", async () => {
    const events = fanout();
    const signals = new JobEventSignals(events);
    const watch = signals.watch("job-1");
    events.emit("job-1");
    expect(await outcome(watch.next(60_000), 60_000)).toBe("woken");
    watch.stop();
  });

  it("ends a wait after its time when no event comes, and forgets stopped watches", async () => {
    const events = fanout();
    const signals = new JobEventSignals(events);
    const first = signals.watch("job-1");
    const second = signals.watch("job-1");
    expect(await outcome(first.next(5), 60_000)).toBe("woken"); // its own time: well under a minute
    first.stop();
    expect(signals.watched).toBe(1);
    second.stop();
    expect(signals.watched).toBe(0);
  });

  it("wakes when the copy that applied the accept says so after its commit", async () => {
    const signals = new JobEventSignals(undefined);
    const watch = signals.watch("job-1");
    const wait = watch.next(60_000);
    signals.wake("job-2");
    expect(signals.watched).toBe(1);
    signals.wake("job-1");
    expect(await outcome(wait, 60_000)).toBe("woken");
    watch.stop();
  });

  it("without a fan-out, only time ends a wait", async () => {
    const signals = new JobEventSignals(undefined);
    const watch = signals.watch("job-1");
    await watch.next(1);
    watch.stop();
    expect(signals.watched).toBe(0);
  });
});
