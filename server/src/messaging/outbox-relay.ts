import { jetstream } from "@nats-io/jetstream";
import { natsNames, type NatsNames } from "@sluice/protocol";
import type { DataSource } from "typeorm";
import type { Logger } from "../logger";
import type { MessageSigner } from "./message-signer";
import type { NatsLink } from "./nats";

/**
 * The transaction-level advisory lock a relay holds while it relays a batch. One relay at a time
 * per database: two server copies publishing neighbouring rows at once could reorder the events
 * of one execution on their way to the subscribers of every copy.
 */
export const OUTBOX_RELAY_LOCK = 736_411_001;

const encoder = new TextEncoder();

/**
 * Publishes what the engine wrote to the outbox, in order, to JetStream. The message id
 * (`Nats-Msg-Id`) is the message's own id (job:<id>:<attempt>, event:<execution>:<sequence>...),
 * so a publish repeated after a crash between the publish and the delete is dropped by the
 * stream as a duplicate. Several server copies relay in turn (OUTBOX_RELAY_LOCK): a copy that
 * finds the lock taken tries again shortly, so the order of the rows is the order of publishing.
 */
export class OutboxRelay {
  private wake: (() => void) | null = null;
  private pending = false;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly names: NatsNames;

  constructor(
    private readonly db: DataSource,
    private readonly nats: NatsLink,
    prefix: string,
    private readonly logger: Logger,
    /** Signs jobs and cancels (PROTOCOL.md 11.5): agents obey nothing else. */
    private readonly signer: MessageSigner,
    private readonly options: { idleMs: number; batch: number; busyMs: number } = {
      idleMs: 500,
      batch: 200,
      busyMs: 50,
    },
  ) {
    this.names = natsNames(prefix);
  }

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
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.pending = false;
      let relayed = 0;
      try {
        relayed = await this.relayBatch();
        if (failures > 0) this.logger.info("outbox relay resumed");
        failures = 0;
      } catch (error) {
        if (failures++ === 0)
          this.logger.warn({ err: (error as Error).message }, "outbox relay failed; retrying");
      }
      if (relayed >= this.options.batch || this.pending) continue;
      const wait =
        failures > 0
          ? Math.min(5000, 100 * 2 ** failures)
          : relayed < 0
            ? this.options.busyMs
            : this.options.idleMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Relays one batch; returns how many messages it published, or -1 when another copy relays. */
  async relayBatch(): Promise<number> {
    const nc = this.nats.nats;
    if (!nc || nc.isClosed()) throw new Error("NATS is not connected");
    const js = jetstream(nc);
    return this.db.transaction(async (m) => {
      // One statement takes the relay lock and the batch: the rows are deleted now and come back
      // if publishing fails (the transaction rolls back), so nothing is lost and nothing is sent
      // twice by two copies.
      const [taken]: Array<{
        locked: boolean;
        rows: Array<{ id: string; msgId: string; subject: string; payload: unknown }> | null;
      }> = await m.query(
        `WITH lock AS (SELECT pg_try_advisory_xact_lock($1) AS ok),
              batch AS (
                DELETE FROM outbox WHERE id IN (
                  SELECT id FROM outbox WHERE (SELECT ok FROM lock) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
                RETURNING id, msg_id, subject, payload)
         SELECT (SELECT ok FROM lock) AS locked,
                (SELECT json_agg(json_build_object('id', id, 'msgId', msg_id, 'subject', subject, 'payload', payload)
                                 ORDER BY id) FROM batch) AS rows`,
        [OUTBOX_RELAY_LOCK, this.options.batch],
      );
      if (!taken?.locked) return -1;
      const rows = taken.rows ?? [];
      if (rows.length === 0) return 0;
      // Cancels to one agent's own subject go over core NATS (no stream holds them): at most once,
      // backed by the durable cancel subject the agent reads with every job heartbeat. Jobs and
      // cancels are signed (signed at publishing, so a row relayed late is still fresh).
      const acks = rows.map((row) => {
        const body = encoder.encode(JSON.stringify(row.payload));
        const kind = this.names.parse(row.subject)?.kind;
        const signed = kind === "job" || kind === "cancel" || kind === "agentCancel";
        const headers = signed ? this.signer.headers(row.subject, row.msgId, body) : undefined;
        return kind === "agentCancel"
          ? nc.publish(row.subject, body, { headers })
          : js.publish(row.subject, body, { msgID: row.msgId, ...(headers ? { headers } : {}) });
      });
      await Promise.all(acks);
      return rows.length;
    });
  }
}
