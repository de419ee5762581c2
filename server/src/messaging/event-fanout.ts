import type { Subscription } from "@nats-io/transport-node";
import { natsNames } from "@sluice/protocol";
import type { PipelineEvent } from "../domain/execution";
import type { Logger } from "../logger";
import type { NatsLink } from "./nats";

type Listener = (event: PipelineEvent) => void;

/**
 * Every server copy subscribes to the installation's pipeline events on NATS and hands them to
 * its own GraphQL subscribers, so a change made through one copy reaches clients of all of them.
 */
export class EventFanout {
  private subscription: Subscription | null = null;
  private readonly listeners = new Set<Listener>();

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
        for (const listener of this.listeners) listener(event);
      },
    });
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
  }
}
