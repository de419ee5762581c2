import { jetstream, jetstreamManager, type Consumer, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  decode,
  isTransientNatsError,
  natsNames,
  type LogChunkMessage,
  type NatsNames,
} from "@sluice/protocol";
import type { NatsLink } from "./nats";

/**
 * Logs of up to this many chunks are read chunk by chunk (one request each, answered by the
 * stream's leader); longer ones through an ordered consumer, which is faster for many messages
 * but is a one-replica consumer that a NATS cluster that lost a node may try to place on it.
 */
const DIRECT_READ_MAX = 64;
/** Creating an ordered consumer takes milliseconds; one placed on a lost node never answers. */
const ORDERED_CREATE_TIMEOUT_MS = 2000;
/** How many times following a log tries to create its ordered consumer (see orderedConsumer). */
const FOLLOW_CREATE_TRIES = 5;

export type LogStreamName = "stdout" | "stderr" | "system";

/** One line of an action execution's log; `sequence` counts lines from 1 within the attempt. */
export interface LogLine {
  sequence: number;
  at: string;
  stream: LogStreamName;
  text: string;
}

/**
 * Turns log chunks (PROTOCOL.md 5.4, 10) into lines. Chunks of one stream may end inside a line;
 * the rest of such a line waits for the next chunk of the same stream. A line keeps the time of
 * the chunk it started in.
 */
export class LineSplitter {
  private sequence = 0;
  private readonly partial = new Map<LogStreamName, { at: string; text: string }>();

  push(chunk: Pick<LogChunkMessage, "at" | "stream" | "text">): LogLine[] {
    const lines: LogLine[] = [];
    const carried = this.partial.get(chunk.stream);
    let text = (carried?.text ?? "") + chunk.text;
    let at = carried?.at ?? chunk.at;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n")) {
      lines.push({ sequence: ++this.sequence, at, stream: chunk.stream, text: text.slice(0, end) });
      text = text.slice(end + 1);
      at = chunk.at;
    }
    if (text.length > 0) this.partial.set(chunk.stream, { at, text });
    else this.partial.delete(chunk.stream);
    return lines;
  }

  /** What is left when the log ends: lines without their final newline. */
  flush(): LogLine[] {
    const rest = [...this.partial.entries()].map(([stream, { at, text }]) => ({
      sequence: ++this.sequence,
      at,
      stream,
      text,
    }));
    this.partial.clear();
    return rest;
  }
}

/**
 * Reads the log of an action execution from `<prefix>_LOGS` (one subject per action execution),
 * chunk by chunk or with ordered consumers: no durable state on the server, and JetStream keeps
 * the order.
 */
export class LogReader {
  private readonly names: NatsNames;

  constructor(
    private readonly nats: NatsLink,
    prefix: string,
  ) {
    this.names = natsNames(prefix);
  }

  /**
   * Lines after `after`, at most `first` of them, and whether more exist now. `ended` says the
   * attempt has ended, so a partial last line is a whole line.
   */
  async read(
    jobId: string,
    after: number,
    first: number,
    ended: boolean,
  ): Promise<{ lines: LogLine[]; hasMore: boolean }> {
    const nc = this.nats.nats;
    if (!nc) throw new Error("NATS is not connected");
    const subject = this.names.subjects.log(jobId);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(this.names.streams.logs, { subjects_filter: subject });
    const stored = info.state.subjects?.[subject] ?? 0;
    const lines: LogLine[] = [];
    if (stored === 0) return { lines, hasMore: false };
    const splitter = new LineSplitter();
    let seen = 0;
    let hasMore = false;
    /** Takes one stored chunk; true once the page is full or the last chunk was taken. */
    const take = (data: Uint8Array, msgSubject: string, last: boolean): boolean => {
      seen++;
      const chunk = decode("logChunk", data, msgSubject);
      if (chunk.ok) {
        for (const line of [...splitter.push(chunk.message), ...(last && ended ? splitter.flush() : [])]) {
          if (line.sequence <= after) continue;
          if (lines.length === first) {
            hasMore = true;
            break;
          }
          lines.push(line);
        }
      }
      return hasMore || last;
    };
    let messages: ConsumerMessages | null = null;
    if (stored > DIRECT_READ_MAX) {
      try {
        messages = await this.orderedMessages(nc, subject);
      } catch (error) {
        // A NATS cluster that lost a node may place the (one-replica) ordered consumer on it, and
        // its creation times out: read the chunks one by one from the stream's leader instead.
        if (!isTransientNatsError(error)) throw error;
      }
    }
    if (messages) {
      try {
        for await (const msg of messages) {
          if (take(msg.data, msg.subject, seen + 1 >= stored || msg.info.pending === 0)) break;
        }
      } finally {
        messages.stop();
      }
      return { lines, hasMore };
    }
    // One request per chunk, each answered by the stream's leader: no consumer to place.
    for (let seq = 0; ;) {
      // nats-server 2.9's STREAM.MSG.GET takes next_by_subj; nats.js types it for direct gets only.
      const query = { seq, next_by_subj: subject } as unknown as { seq: number };
      const msg = await jsm.streams.getMessage(this.names.streams.logs, query);
      if (!msg) break;
      seq = msg.seq + 1;
      if (take(msg.data, msg.subject, seen + 1 >= stored)) break;
    }
    return { lines, hasMore };
  }

  private async orderedMessages(nc: NatsConnection, subject: string): Promise<ConsumerMessages> {
    const consumer = await this.orderedConsumer(nc, subject, 1);
    return consumer.consume({ max_messages: 256 });
  }

  /**
   * An ordered consumer of one log's subject. Its creation is tried `tries` times: a NATS cluster
   * that lost a node places each new one-replica consumer on a node of its choice, the lost one
   * included, and that creation times out (ORDERED_CREATE_TIMEOUT_MS) while the next may not.
   */
  private async orderedConsumer(nc: NatsConnection, subject: string, tries: number): Promise<Consumer> {
    const js = jetstream(nc, { timeout: ORDERED_CREATE_TIMEOUT_MS });
    for (let attempt = 1; ; attempt++) {
      try {
        return await js.consumers.get(this.names.streams.logs, { filter_subjects: subject });
      } catch (error) {
        if (attempt >= tries || !isTransientNatsError(error)) throw error;
      }
    }
  }

  /**
   * Follows the log: every line after `after`, as it arrives, until `stop()` is called. `ended()`
   * is asked when the log is idle: once the attempt has ended and nothing more comes, the last
   * partial line is flushed and `onEnd` runs.
   */
  async follow(
    jobId: string,
    after: number,
    onLine: (line: LogLine) => void,
    ended: () => Promise<boolean>,
    onEnd: () => void,
  ): Promise<{ stop(): void }> {
    const nc = this.nats.nats;
    if (!nc) throw new Error("NATS is not connected");
    const subject = this.names.subjects.log(jobId);
    const consumer = await this.orderedConsumer(nc, subject, FOLLOW_CREATE_TRIES);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 256 });
    const splitter = new LineSplitter();
    let lastMessageAt = 0;
    let stopped = false;
    const emit = (lines: LogLine[]) => {
      for (const line of lines) if (line.sequence > after) onLine(line);
    };
    const finish = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(idle);
      messages.stop();
    };
    // The log is over when the attempt has ended (its agent stored every chunk before the
    // complete), nothing is pending on the consumer, and nothing arrived for a moment.
    const idle = setInterval(() => {
      if (stopped || Date.now() - lastMessageAt < 400) return;
      void (async () => {
        if (!(await ended().catch(() => false))) return;
        const info = await consumer.info().catch(() => null);
        if (info?.num_pending !== 0 || stopped || Date.now() - lastMessageAt < 400) return;
        emit(splitter.flush());
        finish();
        onEnd();
      })();
    }, 500);
    void (async () => {
      for await (const msg of messages) {
        lastMessageAt = Date.now();
        const chunk = decode("logChunk", msg.data, msg.subject);
        if (chunk.ok) emit(splitter.push(chunk.message));
      }
    })();
    return { stop: finish };
  }
}
