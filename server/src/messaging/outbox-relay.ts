import { jetstream } from "@nats-io/jetstream";
import type { DataSource } from "typeorm";
import type { Logger } from "../logger";
import type { NatsLink } from "./nats";

/**
 * Publishes what the engine wrote to the outbox, in order, to JetStream. The message id
 * (`Nats-Msg-Id`) is the message's own id (job:<id>:<attempt>, event:<execution>:<sequence>...), so a publish repeated after a crash between the
 * publish and the delete is dropped by the stream as a duplicate. Rows are claimed with
 * SKIP LOCKED, so several server copies relay without stepping on each other.
 */
export class OutboxRelay {
  private wake: (() => void) | null = null;
  private pending = false;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly nats: NatsLink,
    private readonly logger: Logger,
    private readonly options: { idleMs: number; batch: number } = { idleMs: 500, batch: 200 },
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
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.pending = false;
      let relayed = 0;
      try {
        relayed = await this.relayBatch();
        failures = 0;
      } catch (error) {
        if (failures++ === 0)
          this.logger.warn({ err: (error as Error).message }, "outbox relay failed; retrying");
      }
      if (relayed >= this.options.batch || this.pending) continue;
      const wait = failures > 0 ? Math.min(5000, 100 * 2 ** failures) : this.options.idleMs;
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

  /** Relays one batch; returns how many messages it published. */
  async relayBatch(): Promise<number> {
    const nc = this.nats.nats;
    if (!nc || nc.isClosed()) throw new Error("NATS is not connected");
    const js = jetstream(nc);
    return this.db.transaction(async (m) => {
      const rows: Array<{ id: string; msgId: string; subject: string; payload: unknown }> = await m.query(
        `SELECT id, msg_id AS "msgId", subject, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batch],
      );
      if (rows.length === 0) return 0;
      const acks = rows.map((row) =>
        js.publish(row.subject, JSON.stringify(row.payload), { msgID: row.msgId }),
      );
      await Promise.all(acks);
      await m.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}
