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

/** How many executions' last sequence the fan-out remembers to drop repeated events. */
const REMEMBERED_EXECUTIONS = 10_000;

/**
 * Every server copy subscribes to the installation's pipeline events on NATS and hands them to
 * its own GraphQL subscribers, so a change made through one copy reaches clients of all of them.
 */
export class EventFanout {
  private subscription: Subscription | null = null;
  private readonly listeners = new Set<Listener>();
  /** Events received while an earlier one is still being handed out, in order. */
  private readonly backlog: PipelineEvent[] = [];
  private delivering = false;
  /** The last sequence handed out per execution, for the REMEMBERED_EXECUTIONS most recent ones. */
  private readonly lastSequence = new Map<string, number>();

  constructor(
    private readonly nats: NatsLink,
    private readonly prefix: string,
    private readonly logger: Logger,
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
        if (this.isRepeat(event)) return;
        this.backlog.push(event);
        if (!this.delivering) this.deliverBacklog();
      },
    });
  }

  /**
   * A relay that retries a batch (its transaction failed after some publishes went out) sends
   * those events again, and core subscribers get them again: JetStream's de-duplication covers
   * the stream only. The relay publishes in order (OUTBOX_RELAY_LOCK), so an execution's event
   * whose sequence is not above the last one handed out is a repeat.
   */
  private isRepeat(event: PipelineEvent): boolean {
    if (event.executionId === null || event.sequence === null) return false;
    const last = this.lastSequence.get(event.executionId);
    if (last !== undefined && event.sequence <= last) return true;
    this.lastSequence.delete(event.executionId); // most recent last: the oldest go first
    this.lastSequence.set(event.executionId, event.sequence);
    if (this.lastSequence.size > REMEMBERED_EXECUTIONS) {
      this.lastSequence.delete(this.lastSequence.keys().next().value!);
    }
    return false;
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
