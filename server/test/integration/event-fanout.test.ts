/**
 * The fan-out hands each execution's events out in sequence order, once, however NATS brought
 * them (messaging/event-fanout.ts): two server copies publish their own commits' events right
 * after their commits, so one execution's events can arrive swapped, repeated, or with one missing
 * for a while. Real NATS; the history (ExecutionStore.eventsOf in the server) is a list here.
 */
import crypto from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "@sluice/protocol";
import type { PipelineEvent } from "../../src/domain/execution";
import { createLogger } from "../../src/logger";
import { EventFanout, type EventHistory } from "../../src/messaging/event-fanout";
import { NatsLink } from "../../src/messaging/nats";
import { connectNats, NATS_URL } from "../support/nats";
import { eventually } from "../support/wait";

const prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
const names = natsNames(prefix);
let nc: NatsConnection;
const started: Array<{ fanout: EventFanout; link: NatsLink }> = [];

beforeAll(async () => {
  nc = await connectNats();
});

afterEach(async () => {
  for (const { fanout, link } of started.splice(0)) {
    fanout.stop();
    await link.close();
  }
});

afterAll(async () => {
  await nc?.close();
});

function event(executionId: string | null, sequence: number | null, type = "ACTION_STARTED"): PipelineEvent {
  return {
    pipelineName: "fan",
    type,
    executionId,
    sequence,
    at: new Date().toISOString(),
  } as PipelineEvent;
}

/** A started fan-out and the events its listener received, as `<execution>:<sequence>`. */
async function startFanout(history?: EventHistory, gapWaitMs?: number) {
  const link = new NatsLink([NATS_URL], prefix, createLogger("silent"));
  await link.connected();
  const fanout = new EventFanout(link, prefix, createLogger("silent"), history, gapWaitMs);
  fanout.start();
  started.push({ fanout, link });
  const received: PipelineEvent[] = [];
  fanout.listen((e) => received.push(e));
  await link.nats!.flush(); // the subscription is registered with the server
  return {
    fanout,
    received,
    of: (id: string) => received.filter((e) => e.executionId === id).map((e) => e.sequence),
  };
}

async function publish(...events: PipelineEvent[]): Promise<void> {
  for (const e of events) nc.publish(names.subjects.event(e.pipelineName), JSON.stringify(e));
  await nc.flush();
}

/**
 * Proof that the fan-out has taken in everything published before: a marker event of another
 * execution, published after, has reached the listener (one connection keeps the order).
 */
async function drained(received: PipelineEvent[]): Promise<void> {
  const marker = crypto.randomUUID();
  await publish(event(marker, 1));
  await eventually(async () => received.some((e) => e.executionId === marker), 10_000, "the marker");
}

it("hands out events in order as they come, and drops repeats", async () => {
  const { received, of } = await startFanout();
  const x = crypto.randomUUID();
  await publish(event(x, 1), event(x, 2), event(x, 2), event(x, 1), event(x, 3));
  await drained(received);
  expect(of(x)).toEqual([1, 2, 3]);
});

it("holds an event after a gap until the missing one arrives, then hands both out in order", async () => {
  const history = jest.fn<ReturnType<EventHistory>, Parameters<EventHistory>>(async () => []);
  const { received, of } = await startFanout(history, 60_000);
  const x = crypto.randomUUID();
  await publish(event(x, 1), event(x, 3), event(x, 4));
  await drained(received);
  // 3 and 4 are in, held behind the gap.
  expect(of(x)).toEqual([1]);
  await publish(event(x, 2));
  await eventually(async () => of(x).length === 4, 10_000, "the held events");
  expect(of(x)).toEqual([1, 2, 3, 4]);
  await publish(event(x, 5));
  await eventually(async () => of(x).length === 5, 10_000, "the next event");
  expect(of(x)).toEqual([1, 2, 3, 4, 5]);
  expect(history).not.toHaveBeenCalled();
});

it("reads what is still missing after the wait from the history", async () => {
  const x = crypto.randomUUID();
  const stored = [event(x, 2, "STAGE_STARTED"), event(x, 3), event(x, 4)];
  const history = jest.fn<ReturnType<EventHistory>, Parameters<EventHistory>>(async (_id, after) =>
    stored.filter((e) => e.sequence! > after),
  );
  const { received, of } = await startFanout(history, 20);
  await publish(event(x, 1), event(x, 3));
  await eventually(async () => of(x).length === 4, 10_000, "the filled gap");
  // 2 from the history, then 3 as received, then 4 (stored, on its way): in order, each once.
  expect(of(x)).toEqual([1, 2, 3, 4]);
  expect(received.find((e) => e.executionId === x && e.sequence === 2)?.type).toBe("STAGE_STARTED");
  expect(history).toHaveBeenCalledWith(x, 1);
  // Arriving late, 2 and 4 are repeats.
  await publish(event(x, 2), event(x, 4), event(x, 5));
  await eventually(async () => of(x).length === 5, 10_000, "the next event");
  expect(of(x)).toEqual([1, 2, 3, 4, 5]);
});

it("hands out what it holds, gap and all, when the history cannot be read", async () => {
  const history: EventHistory = async () => {
    throw new Error("PostgreSQL is away");
  };
  const { of } = await startFanout(history, 20);
  const x = crypto.randomUUID();
  await publish(event(x, 1), event(x, 3), event(x, 4));
  await eventually(async () => of(x).length === 3, 10_000, "the held events");
  expect(of(x)).toEqual([1, 3, 4]);
});

it("an execution first seen after its start: its events wait for the ones before them, in order", async () => {
  const history = jest.fn<ReturnType<EventHistory>, Parameters<EventHistory>>(async () => []);
  const { received, of } = await startFanout(history, 200);
  const x = crypto.randomUUID();
  // Swapped on their way: the later one first.
  await publish(event(x, 8), event(x, 7));
  await eventually(async () => of(x).length === 2, 10_000, "the held events");
  expect(of(x)).toEqual([7, 8]);
  // Its first event goes out at once, with those held behind it.
  const y = crypto.randomUUID();
  await publish(event(y, 2), event(y, 1));
  await drained(received);
  expect(of(y)).toEqual([1, 2]);
  // Nothing is known of what came before 7: the history is not asked.
  expect(history).not.toHaveBeenCalled();
});

it("events of no execution (transitions) go out at once", async () => {
  const { received } = await startFanout(undefined, 60_000);
  await publish(
    event(null, null, "STAGE_TRANSITION_DISABLED"),
    event(null, null, "STAGE_TRANSITION_ENABLED"),
  );
  await eventually(async () => received.length === 2, 10_000, "both events");
  expect(received.map((e) => e.type)).toEqual(["STAGE_TRANSITION_DISABLED", "STAGE_TRANSITION_ENABLED"]);
});
