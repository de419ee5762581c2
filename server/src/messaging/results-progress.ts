import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { natsNames, type NatsNames } from "@sluice/protocol";
import type { NatsLink } from "./nats";

/** How long a question to JetStream may take before the timer loop goes on without an answer. */
const INFO_TIMEOUT_MS = 1000;
/** Checkpoints kept while results wait (one per timer round): 10 minutes at 500 ms. */
const MAX_CHECKPOINTS = 1200;

/**
 * Up to when the results consumer has applied everything agents stored, read from the engine
 * consumer that every server copy shares: the horizon up to which leases may be judged.
 *
 * Each call records a checkpoint (the time given, the results stream's last sequence then). Once
 * the consumer's ack floor has passed a checkpoint's sequence, every accept, heartbeat and
 * complete stored before its time has been applied (or dropped as malformed), so a lease due
 * before that time has really run out. While NATS cannot be read, or results wait because
 * PostgreSQL is away, the horizon stays where it was: time the server could not read or write
 * does not count against agents.
 */
export class ResultsProgress {
  private readonly names: NatsNames;
  private jsm: { nc: unknown; jsm: JetStreamManager } | null = null;
  private checkpoints: Array<{ at: Date; seq: number }> = [];
  private horizon: Date | null = null;

  constructor(
    private readonly nats: NatsLink,
    prefix: string,
  ) {
    this.names = natsNames(prefix);
  }

  /**
   * The time up to which every stored result has been applied, `now` when none waits; the last
   * known one when JetStream does not answer (null before it ever did).
   */
  async appliedUpTo(now: Date): Promise<Date | null> {
    const nc = this.nats.nats;
    if (!nc || nc.isClosed()) return this.horizon;
    let info;
    try {
      if (this.jsm?.nc !== nc)
        this.jsm = { nc, jsm: await jetstreamManager(nc, { timeout: INFO_TIMEOUT_MS }) };
      info = await this.jsm.jsm.consumers.info(this.names.streams.results, this.names.consumers.engine);
    } catch {
      return this.horizon;
    }
    if (info.num_pending === 0 && info.num_ack_pending === 0) {
      this.checkpoints = [];
      return this.advance(now);
    }
    this.checkpoints.push({ at: now, seq: info.delivered.stream_seq + info.num_pending });
    if (this.checkpoints.length > MAX_CHECKPOINTS) this.checkpoints.shift();
    let passed: Date | null = null;
    while (this.checkpoints[0] && this.checkpoints[0].seq <= info.ack_floor.stream_seq) {
      passed = this.checkpoints.shift()!.at;
    }
    return passed ? this.advance(passed) : this.horizon;
  }

  private advance(to: Date): Date {
    if (!this.horizon || to > this.horizon) this.horizon = to;
    return this.horizon;
  }
}
