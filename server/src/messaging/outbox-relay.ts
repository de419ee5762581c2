import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger";
import { RELAYED_KINDS, signedKind, type OutboxRow, type OutboxStore } from "../persistence/outbox-store";
import type { MessageSigner } from "./message-signer";
import type { NatsLink } from "./nats";
import {
  context,
  injectTraceHeaders,
  SpanKind,
  SpanStatusCode,
  storedTraceContext,
  trace,
  tracer,
  type Span,
} from "../telemetry/tracing";

/**
 * The transaction-level advisory lock a relay holds while it relays a batch. One relay at a time
 * per database: leftovers and definition events leave in the order they were written.
 */
export const OUTBOX_RELAY_LOCK = 736_411_001;

/**
 * The shortest time between two relay rounds started by kicks: an idle relay goes at once, a busy
 * one takes the rows of the kicks made meanwhile in its next round (one transaction of three
 * statements for several instead of one each). The direct path does not wait for it.
 */
export const RELAY_SPACING_MS = 25;

/** How old an outbox row must be before the polling relay takes it from the direct path. */
export const LEFTOVER_AGE_MS = 1000;

const encoder = new TextEncoder();

/**
 * Publishes what the engine wrote to the outbox to NATS, each row as its kind and transport say
 * (persistence/outbox-store.ts): jobs and cancels signed, a job with its trace context, a cancel
 * for one agent over core NATS, the rest to JetStream. The message id (`Nats-Msg-Id`) is the
 * message's own id (job:<id>:<attempt>, event:<execution>:<sequence>...), so a message published
 * twice (a crash between the publish and the delete, or both paths below) is stored once by the
 * stream.
 *
 * Two paths (engine/README.md, "Messages leave through the outbox"):
 * - **Direct**: the engine hands over the rows its transaction wrote right after the commit
 *   (`sendCommitted`): jobs, cancels and pipeline events. They are published at once, in commit
 *   order, with no transaction, and deleted in one statement once NATS stored them: one statement
 *   per batch instead of a transaction of three per commit, and a job reaches its agent without
 *   waiting for a poll. Events of one pipeline that two copies publish in swapped order are put
 *   back in sequence order by every copy's fan-out (messaging/event-fanout.ts).
 * - **Relay**: a loop takes rows in order under a transaction-level advisory lock (one relay at a
 *   time per database) and deletes them in the transaction that publishes them. Polling, it
 *   takes only rows older than LEFTOVER_AGE_MS (left by a copy that died, or by a publish or a
 *   delete that failed); kicked (NATS away at a commit, a definition change, a failed publish),
 *   it takes every row but those this copy's direct path is sending. While it has leftovers to
 *   send (a backlog), commits go through it too, so that after an outage messages still leave in
 *   the order they were written.
 */
export class OutboxRelay {
  private wake: (() => void) | null = null;
  private pending = false;
  private running = false;
  private loop: Promise<void> | null = null;
  /** Rows the relay must send first: until it has, commits go through it (their order). */
  private backlog = false;
  /** Ids published by the direct path, to delete in the next statement. */
  private toDelete: string[] = [];
  private deleting: Promise<void> | null = null;
  private readonly sending = new Set<Promise<void>>();
  /**
   * Rows the direct path is sending or deleting: the relay, kicked meanwhile, leaves
   * them to it instead of publishing (and signing) every job a second time.
   */
  private readonly direct = new Set<string>();

  constructor(
    private readonly store: OutboxStore,
    private readonly nats: NatsLink,
    private readonly logger: Logger,
    /** Signs jobs and cancels (PROTOCOL.md 11.5): agents obey nothing else. */
    private readonly signer: MessageSigner,
    private readonly options: { idleMs: number; batch: number; busyMs: number } = {
      idleMs: 500,
      batch: 200,
      busyMs: 50,
    },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Called after a commit that wrote to the outbox: relay now instead of at the next poll. */
  kick(): void {
    this.pending = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.sending]);
    await this.deleting;
  }

  /**
   * Rows a transaction just committed: published now, in the order of the calls, and deleted once
   * NATS stored them. When NATS is away, a publish fails, or older rows wait, the relay sends them.
   */
  sendCommitted(committed: OutboxRow[]): void {
    // Jobs, cancels and pipeline events go now. Two copies may publish one execution's events in
    // swapped order: every copy's fan-out holds an event after a gap until the gap is filled, from
    // NATS or from the history (messaging/event-fanout.ts). Definition events wait for the relay.
    const rows = committed.filter((row) => !RELAYED_KINDS.has(row.kind));
    if (rows.length < committed.length) this.kick();
    if (rows.length === 0) return;
    const nc = this.nats.nats;
    if (!this.running || this.backlog || !nc || nc.isClosed()) {
      this.kick();
      return;
    }
    // A span for the publish, child of the engine transaction that wrote the rows; a job's message
    // carries its trace context (the relay loop carries the one stored with the row: publish()).
    const span = tracer.startSpan("outbox publish", {
      kind: SpanKind.PRODUCER,
      attributes: { "messaging.system": "nats", "messaging.batch.message_count": rows.length },
    });
    const published = context.with(trace.setSpan(context.active(), span), () => this.publish(nc, rows));
    published.then(
      () => span.end(),
      (error: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? "Error" });
        span.end();
      },
    );
    for (const row of rows) this.direct.add(row.id);
    const sent: Promise<void> = published
      .then(
        () => this.deleteSoon(rows.map((row) => row.id)),
        (error: unknown) => {
          // The rows stay in the outbox: the relay sends them (again: the stream keeps one copy).
          for (const row of rows) this.direct.delete(row.id);
          this.backlog = true;
          this.logger.debug({ err: (error as Error).message }, "direct publish failed; relaying");
          this.kick();
        },
      )
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }

  /**
   * Publishes rows in order; resolves when NATS stored every stream message. A job's headers carry
   * the trace context: on the direct path the active one (sendCommitted's span), from the relay
   * loop (`relayed`) that of the transaction that wrote it, stored with its row, under a span of
   * its own for the publish.
   */
  private async publish(nc: NatsConnection, rows: OutboxRow[], relayed = false): Promise<void> {
    const js = jetstream(nc);
    const spans: Span[] = [];
    // Cancels to one agent's own subject go over core NATS (no stream holds them): at most once,
    // backed by the durable cancel subject the agent reads with every job heartbeat. Jobs and
    // cancels are signed (signed at publishing, so a row relayed late is still fresh).
    const acks = rows.map((row) => {
      // The protocol's encoding, made when the row was written (outboxMessage).
      const body = encoder.encode(row.payload);
      const signed = signedKind(row);
      const headers = signed ? this.signer.headers(signed, row.subject, row.msgId, body) : undefined;
      // The trace context rides outside the signature (it covers subject, id, times and payload).
      const job = row.kind === "job";
      if (job && headers && !relayed) injectTraceHeaders(headers);
      if (job && headers && relayed && row.traceparent) {
        const parent = storedTraceContext({
          traceparent: row.traceparent,
          tracestate: row.tracestate ?? null,
        });
        const span = tracer.startSpan(
          "outbox publish",
          {
            kind: SpanKind.PRODUCER,
            attributes: { "messaging.system": "nats", "sluice.outbox.path": "relay" },
          },
          parent,
        );
        spans.push(span);
        injectTraceHeaders(headers, trace.setSpan(parent, span));
      }
      return row.transport === "core"
        ? nc.publish(row.subject, body, { headers })
        : js.publish(row.subject, body, { msgID: row.msgId, ...(headers ? { headers } : {}) });
    });
    try {
      await Promise.all(acks);
    } catch (error) {
      for (const span of spans)
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? "Error" });
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
  }

  /** Deletes published rows, those of concurrent commits together in one statement. */
  private deleteSoon(ids: string[]): void {
    this.toDelete.push(...ids);
    if (this.deleting) return;
    this.deleting = (async () => {
      while (this.toDelete.length > 0) {
        const batch = this.toDelete;
        this.toDelete = [];
        try {
          await this.store.deletePublished(batch);
        } catch (error) {
          // Left in the outbox: the relay publishes them again once they are old (one copy kept).
          this.logger.debug({ err: (error as Error).message }, "published outbox rows not deleted");
        } finally {
          for (const id of batch) this.direct.delete(id);
        }
      }
    })().finally(() => (this.deleting = null));
  }

  private async run(): Promise<void> {
    let failures = 0;
    let roundStarted = 0;
    while (this.running) {
      roundStarted = performance.now();
      const everything = this.pending || this.backlog;
      this.pending = false;
      let relayed = 0;
      try {
        relayed = await this.relayBatch(everything ? 0 : LEFTOVER_AGE_MS);
        // Leftovers found by the poll: send everything in order until the outbox is empty.
        if (relayed > 0 && !everything) this.backlog = true;
        if (relayed === 0 && everything) this.backlog = false;
        if (failures > 0) this.logger.info("outbox relay resumed");
        failures = 0;
      } catch (error) {
        if (failures++ === 0)
          this.logger.warn({ err: (error as Error).message }, "outbox relay failed; retrying");
      }
      if (relayed >= this.options.batch || (relayed > 0 && this.backlog)) continue;
      // Kicked again (more rows for it): at most one round per RELAY_SPACING_MS, so that
      // under load one round takes the events of several commits.
      const sinceRound = () => performance.now() - roundStarted;
      const wait =
        failures > 0
          ? Math.min(5000, 100 * 2 ** failures)
          : this.pending
            ? RELAY_SPACING_MS - sinceRound()
            : relayed < 0
              ? this.options.busyMs
              : this.options.idleMs;
      if (wait <= 0) continue;
      await new Promise<void>((resolve) => {
        let timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          const left = this.running && failures === 0 ? RELAY_SPACING_MS - sinceRound() : 0;
          if (left <= 0) resolve();
          else timer = setTimeout(resolve, left);
        };
      });
      this.wake = null;
    }
  }

  /**
   * Relays one batch of rows at least `minAgeMs` old; returns how many messages it published, or
   * -1 when another copy relays.
   */
  async relayBatch(minAgeMs = 0): Promise<number> {
    const nc = this.nats.nats;
    if (!nc || nc.isClosed()) throw new Error("NATS is not connected");
    return this.store.relay(
      {
        lock: OUTBOX_RELAY_LOCK,
        batch: this.options.batch,
        minAgeMs,
        // Kicked for a commit (not catching up a backlog): what the direct path sends is its own.
        exclude: minAgeMs === 0 && !this.backlog ? [...this.direct] : [],
      },
      (rows) => this.publish(nc, rows, true),
    );
  }
}
