import { jetstream, jetstreamManager, type ConsumerMessages } from "@nats-io/jetstream";
import { decode, natsNames, type LogChunkMessage, type NatsNames } from "@sluice/protocol";
import type { NatsLink } from "./nats";

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
 * with ordered consumers: no durable state on the server, and JetStream keeps the order.
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
    const consumer = await jetstream(nc).consumers.get(this.names.streams.logs, { filter_subjects: subject });
    const messages = await consumer.consume({ max_messages: 256 });
    let seen = 0;
    let hasMore = false;
    try {
      for await (const msg of messages) {
        seen++;
        const chunk = decode("logChunk", msg.data, msg.subject);
        const last = seen >= stored || msg.info.pending === 0;
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
        if (hasMore || last) break;
      }
    } finally {
      messages.stop();
    }
    return { lines, hasMore };
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
    const consumer = await jetstream(nc).consumers.get(this.names.streams.logs, { filter_subjects: subject });
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
