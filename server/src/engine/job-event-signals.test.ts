import type { Decision, PipelineEvent } from "../domain/execution";
import { JobEventSignals, untilAccepted } from "./job-event-signals";

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
    await first.next(5); // no event: its time ends it
    first.stop();
    expect(signals.watched).toBe(1);
    second.stop();
    expect(signals.watched).toBe(0);
  });

  it("wakes when the copy that applied the accept says so after its commit", async () => {
    const signals = new JobEventSignals(undefined);
    const watch = signals.watch("job-1");
    const wait = watch.next(60_000);
    const decision = (jobId: string) =>
      ({
        runtime: {},
        changedExecutions: [],
        effects: [
          { type: "ScheduleTimer", timerKey: `lease:${jobId}:1`, at: new Date().toISOString() },
          { type: "Event", event: { type: "ACTION_EXECUTION_STARTED", actionExecutionId: jobId } },
        ],
      }) as unknown as Decision;
    signals.decided(decision("job-2"));
    expect(signals.watched).toBe(1);
    signals.decided(decision("job-1"));
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

  it("untilAccepted asks again when the job's event comes, and stops at the first final answer", async () => {
    const signals = new JobEventSignals(undefined);
    const answers = ["not yet", "not yet", "accepted"];
    let asked = 0;
    const result = untilAccepted(
      signals,
      "job-1",
      async () => {
        const answer = answers[asked++]!;
        // The accept is applied while the first two asks run: their events wake the next ask.
        if (answer === "not yet") setImmediate(() => signals.wake("job-1"));
        return answer;
      },
      (answer) => answer === "not yet",
      { waitMs: 60_000, recheckMs: 60_000 },
    );
    expect(await result).toBe("accepted");
    expect(asked).toBe(3);
    expect(signals.watched).toBe(0);
  });

  it("untilAccepted gives the last answer once its time is up, or null once nobody waits", async () => {
    const signals = new JobEventSignals(undefined);
    const notYet = async () => "not yet";
    expect(await untilAccepted(signals, "job-1", notYet, () => true, { waitMs: 20, recheckMs: 5 })).toBe(
      "not yet",
    );
    expect(
      await untilAccepted(signals, "job-1", notYet, () => true, {
        waitMs: 60_000,
        recheckMs: 5,
        gone: () => true,
      }),
    ).toBeNull();
    expect(signals.watched).toBe(0);
  });
});
