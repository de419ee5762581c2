import { jetstream } from "@nats-io/jetstream";
import { natsNames, type NatsNames } from "@sluice/protocol";
import type { DataSource } from "typeorm";
import type { Logger } from "../logger";
import type { NatsLink } from "./nats";

/**
 * The transaction-level advisory lock a relay holds while it relays a batch. One relay at a time
 * per database: two server copies publishing neighbouring rows at once could reorder the events
 * of one execution on their way to the subscribers of every copy.
 */
export const OUTBOX_RELAY_LOCK = 736_411_001;

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
      const [lock]: Array<{ locked: boolean }> = await m.query(
        `SELECT pg_try_advisory_xact_lock($1) AS locked`,
        [OUTBOX_RELAY_LOCK],
      );
      if (!lock?.locked) return -1;
      const rows: Array<{ id: string; msgId: string; subject: string; payload: unknown }> = await m.query(
        `SELECT id, msg_id AS "msgId", subject, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batch],
      );
      if (rows.length === 0) return 0;
      // Cancels to one agent's own subject go over core NATS (no stream holds them): at most once,
      // backed by the durable cancel subject the agent reads with every job heartbeat.
      const acks = rows.map((row) =>
        this.names.parse(row.subject)?.kind === "agentCancel"
          ? nc.publish(row.subject, JSON.stringify(row.payload))
          : js.publish(row.subject, JSON.stringify(row.payload), { msgID: row.msgId }),
      );
      await Promise.all(acks);
      await m.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}
