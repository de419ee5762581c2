import type { Subscription } from "@nats-io/transport-node";
import { natsNames } from "@sluice/protocol";
import type { PipelineEvent } from "../domain/execution";
import type { Logger } from "../logger";
import type { NatsLink } from "./nats";

type Listener = (event: PipelineEvent) => void;

/**
 * Listeners served in one turn of the event loop. Each listener is a GraphQL subscription that
 * executes the event and writes it to its socket; with a thousand of them, serving all in one
 * turn would let no socket write go out (and no other request run) until the last one is built.
 * Serving them a slice per turn sends to the first clients at once and keeps the server
 * responsive; each listener still gets the events in order (bench/RESULTS.md, fan-out).
 */
const LISTENERS_PER_TURN = 100;

/** How many executions' last sequence the fan-out remembers, to drop repeats and see gaps. */
const REMEMBERED_EXECUTIONS = 10_000;

/**
 * How long an execution's event that comes after a gap in its sequence waits for the missing ones
 * before they are read from the history.
 */
export const GAP_WAIT_MS = 50;

/** Reads an execution's stored events after a sequence, in order (ExecutionStore.eventsOf). */
export type EventHistory = (executionId: string, afterSequence: number) => Promise<PipelineEvent[]>;

/** Events of one execution held until the ones before them arrive. */
interface Gap {
  held: Map<number, PipelineEvent>;
  timer: NodeJS.Timeout;
}

/**
 * Every server copy subscribes to the installation's pipeline events on NATS and hands them to
 * its own GraphQL subscribers, so a change made through one copy reaches clients of all of them.
 *
 * Each execution's events are handed out in sequence order, once. Every copy publishes its own
 * commits' events right after the commit (messaging/outbox-relay.ts), so two copies deciding on
 * one pipeline one after the other can publish its events in swapped order, and a relay that
 * retries a batch publishes some again. An event whose sequence is not above the last one handed
 * out is a repeat and is dropped; one that leaves a gap is held until the gap fills, and after
 * GAP_WAIT_MS the missing events are read from the history: they are stored, since a commit comes
 * before its publish and the pipeline's transactions are serialized, so a later event cannot be
 * published before an earlier one is committed. The first event of an execution this copy has not
 * seen yet, other than its first (sequence 1), waits the same time for the ones before it (a copy
 * that just started, or forgot the execution).
 */
export class EventFanout {
  private subscription: Subscription | null = null;
  private readonly listeners = new Set<Listener>();
  /** Events received while an earlier one is still being handed out, in order. */
  private readonly backlog: PipelineEvent[] = [];
  private delivering = false;
  /** The last sequence handed out per execution, for the REMEMBERED_EXECUTIONS most recent ones. */
  private readonly lastSequence = new Map<string, number>();
  /** Executions with events held behind a gap. */
  private readonly gaps = new Map<string, Gap>();

  constructor(
    private readonly nats: NatsLink,
    private readonly prefix: string,
    private readonly logger: Logger,
    /** Where missing events are read after GAP_WAIT_MS; without it, held ones go on with the gap. */
    private readonly history?: EventHistory,
    private readonly gapWaitMs = GAP_WAIT_MS,
  ) {}

  start(): void {
    const nc = this.nats.nats;
    if (!nc || this.subscription) return;
    this.subscription = nc.subscribe(natsNames(this.prefix).wildcards.events, {
      callback: (error, msg) => {
        if (error) {
          this.logger.warn({ err: error.message }, "event subscription error");
          return;
        }
        let event: PipelineEvent;
        try {
          event = msg.json<PipelineEvent>();
        } catch {
          return;
        }
        this.receive(event);
      },
    });
  }

  /** An event from NATS: handed out, held behind a gap, or dropped as a repeat. */
  private receive(event: PipelineEvent): void {
    const { executionId, sequence } = event;
    // Events of no execution (transitions) have no order to keep.
    if (executionId === null || sequence === null) return this.handOut(event);
    const last = this.lastSequence.get(executionId);
    if (last !== undefined && sequence <= last) return;
    const gap = this.gaps.get(executionId);
    if (gap) {
      gap.held.set(sequence, event);
      this.release(executionId, gap);
      return;
    }
    if (sequence === (last ?? 0) + 1) return this.handOut(event);
    this.gaps.set(executionId, {
      held: new Map([[sequence, event]]),
      timer: setTimeout(() => void this.fill(executionId), this.gapWaitMs),
    });
  }

  /** Hands out the held events that follow the last one handed out; forgets the gap once none is held. */
  private release(executionId: string, gap: Gap): void {
    for (;;) {
      const next = (this.lastSequence.get(executionId) ?? 0) + 1;
      const event = gap.held.get(next);
      if (!event) break;
      gap.held.delete(next);
      this.handOut(event);
    }
    if (gap.held.size === 0) {
      clearTimeout(gap.timer);
      this.gaps.delete(executionId);
    }
  }

  /**
   * The gap did not fill in time: the missing events are read from the history, then everything
   * held goes out in order (with the gap, should the history be unreadable: a subscriber that sees
   * it reads the execution again).
   */
  private async fill(executionId: string): Promise<void> {
    const gap = this.gaps.get(executionId);
    if (!gap) return;
    const last = this.lastSequence.get(executionId);
    if (last !== undefined && this.history) {
      try {
        for (const event of await this.history(executionId, last)) {
          if (event.sequence !== null && !gap.held.has(event.sequence)) gap.held.set(event.sequence, event);
        }
      } catch (error) {
        this.logger.warn({ err: (error as Error).message, executionId }, "missing events not read");
      }
    }
    // Released meanwhile (the late events came), or stopped.
    if (this.gaps.get(executionId) !== gap) return;
    this.gaps.delete(executionId);
    const after = this.lastSequence.get(executionId) ?? 0;
    for (const sequence of [...gap.held.keys()].sort((a, b) => a - b)) {
      if (sequence > after) this.handOut(gap.held.get(sequence)!);
    }
  }

  /** Queues an event for the listeners, remembering its execution's sequence. */
  private handOut(event: PipelineEvent): void {
    if (event.executionId !== null && event.sequence !== null) {
      this.lastSequence.delete(event.executionId); // most recent last: the oldest go first
      this.lastSequence.set(event.executionId, event.sequence);
      if (this.lastSequence.size > REMEMBERED_EXECUTIONS) {
        this.lastSequence.delete(this.lastSequence.keys().next().value!);
      }
    }
    this.backlog.push(event);
    if (!this.delivering) this.deliverBacklog();
  }

  /** Registers a listener; the returned function removes it. */
  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.listeners.clear();
    this.backlog.length = 0;
    for (const gap of this.gaps.values()) clearTimeout(gap.timer);
    this.gaps.clear();
  }

  /**
   * Hands the backlog's events out one after the other, each to the listeners registered when
   * its turn comes, LISTENERS_PER_TURN per turn of the event loop (see above).
   */
  private deliverBacklog(): void {
    const event = this.backlog.shift();
    if (event === undefined) {
      this.delivering = false;
      return;
    }
    this.delivering = true;
    const listeners = [...this.listeners];
    const serve = (from: number) => {
      const to = Math.min(listeners.length, from + LISTENERS_PER_TURN);
      for (let i = from; i < to; i++) {
        const listener = listeners[i]!;
        // one that unsubscribed while the event was being handed out gets no more
        if (!this.listeners.has(listener)) continue;
        try {
          listener(event);
        } catch (error) {
          this.logger.warn({ err: (error as Error).message }, "event listener failed");
        }
      }
      if (to < listeners.length) setImmediate(() => serve(to));
      else this.deliverBacklog();
    };
    serve(0);
  }
}
