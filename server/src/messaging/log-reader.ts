import { createHash } from "node:crypto";
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type OrderedConsumerOptions,
} from "@nats-io/jetstream";
import {
  decode,
  isTransientNatsError,
  natsNames,
  type LogChunkMessage,
  type NatsNames,
} from "@sluice/protocol";
import type { NatsLink } from "./nats";

/**
 * A read or follow creates a one-replica consumer; a NATS cluster that lost a node may place it
 * there, and its creation never answers. It is given this long, then (a read) the chunks are
 * fetched one by one from the stream's leader instead, or (a follow) the creation is tried again.
 */
const CONSUMER_CREATE_TIMEOUT_MS = 2000;
const FOLLOW_CREATE_TRIES = 5;

export type LogStreamName = "stdout" | "stderr" | "system";

/** The order in which the lines left unfinished at the end of a log are flushed. */
const FLUSH_ORDER: readonly LogStreamName[] = ["stdout", "stderr", "system"];

/** One line of an action execution's log; `sequence` counts lines from 1 within the attempt. */
export interface LogLine {
  sequence: number;
  at: string;
  stream: LogStreamName;
  text: string;
}

/**
 * A place in one log from which reading resumes without going back to its start (the opaque
 * `cursor` of the API). Lines are numbered by counting newlines, so the number of the first line
 * that ends in a chunk is known from the count before it: reading again from stream sequence
 * `seq`, with the count set to `base`, numbers every line as a read from the start would. `seq`
 * is the earliest chunk that holds a part of a line not yet returned (a line may span chunks).
 */
export interface LogPosition {
  /** Stream sequence in `<prefix>_LOGS` to read from; 0: the subject's first message. */
  seq: number;
  /** Lines that ended before the chunk at `seq`. */
  base: number;
  /** The last line already returned: lines up to it are skipped. */
  line: number;
  /** The streams whose unfinished last line was already returned (when the log ended). */
  flushed: LogStreamName[];
  /**
   * Unfinished lines that began in one chunk before `seq` and have no other part yet: each is
   * fetched by its stream sequence (one get) instead of reading every chunk since it began. A
   * stream that stopped writing in the middle of a line would otherwise pull `seq` far back.
   */
  open?: { seq: number; base: number }[];
}

export const LOG_START: LogPosition = Object.freeze({ seq: 0, base: 0, line: 0, flushed: [] });

/** The position after line `after` when only its number is known: read from the start, skip it. */
export function positionAfterLine(after: number): LogPosition {
  return { seq: 0, base: 0, line: Math.max(0, after), flushed: [] };
}

const CURSOR_VERSION = 1;

/** A read's consumer is deleted when the read ends; should that fail, the server drops it after this. */
const READ_CONSUMER_IDLE_MS = 30_000;

const nanos = (ms: number) => ms * 1_000_000;

/** A short digest of the log's subject: a cursor of one log is refused for another. */
function logTag(jobId: string): string {
  return createHash("sha256").update(jobId).digest("base64url").slice(0, 8);
}

/** The opaque cursor of a position in the log of `jobId`. */
export function encodeLogCursor(jobId: string, position: LogPosition): string {
  const streams = position.flushed.map((s) => FLUSH_ORDER.indexOf(s)).join("");
  const open = (position.open ?? []).map((o) => `${o.seq}.${o.base}`).join(",");
  const text = [
    CURSOR_VERSION,
    logTag(jobId),
    position.seq,
    position.base,
    position.line,
    streams,
    open,
  ].join(":");
  return Buffer.from(text, "utf8").toString("base64url");
}

/** The position a cursor made by `encodeLogCursor` for the same log names; null for anything else. */
export function decodeLogCursor(jobId: string, cursor: string): LogPosition | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  const parts = Buffer.from(cursor, "base64url").toString("utf8").split(":");
  if (parts.length !== 7) return null;
  const [version, tag, seqText, baseText, lineText, streams, openText] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (version !== String(CURSOR_VERSION) || tag !== logTag(jobId)) return null;
  const numbers = [seqText, baseText, lineText].map((n) =>
    /^(0|[1-9][0-9]{0,14})$/.test(n) ? Number(n) : NaN,
  );
  const [seq, base, line] = numbers as [number, number, number];
  if (numbers.some((n) => !Number.isSafeInteger(n)) || base > line) return null;
  if (!/^[012]{0,3}$/.test(streams)) return null;
  const flushed = [...streams].map((i) => FLUSH_ORDER[Number(i)]!);
  if (new Set(flushed).size !== flushed.length) return null;
  if (!/^([0-9]{1,15}\.[0-9]{1,15}(,[0-9]{1,15}\.[0-9]{1,15}){0,2})?$/.test(openText)) return null;
  const open =
    openText === ""
      ? []
      : openText.split(",").map((o) => {
          const [oseq, obase] = o.split(".").map(Number) as [number, number];
          return { seq: oseq, base: obase };
        });
  if (open.some((o) => !Number.isSafeInteger(o.seq) || o.seq < 1 || o.seq >= seq || o.base > base))
    return null;
  return open.length > 0 ? { seq, base, line, flushed, open } : { seq, base, line, flushed };
}

interface OpenLine {
  at: string;
  text: string;
  /** Stream sequence of the chunk the line began in, and the line count before that chunk. */
  seq: number;
  base: number;
  /** Chunks it has a part of: 1 while it lies in the chunk it began in. */
  chunks: number;
}

/**
 * Turns log chunks (PROTOCOL.md 5.4, 10) into lines. Chunks of one stream may end inside a line;
 * the rest of such a line waits for the next chunk of the same stream. A line keeps the time of
 * the chunk it started in.
 */
export class LineSplitter {
  private sequence: number;
  private readonly partial = new Map<LogStreamName, OpenLine>();

  /** `base`: lines that ended before the first chunk pushed (a read that resumes: LogPosition). */
  constructor(base = 0) {
    this.sequence = base;
  }

  /** Lines ended so far (with the base). */
  get count(): number {
    return this.sequence;
  }

  /** `seq`: the chunk's stream sequence, which `pending()` reports. */
  push(chunk: Pick<LogChunkMessage, "at" | "stream" | "text">, seq = 0): LogLine[] {
    const lines: LogLine[] = [];
    const carried = this.partial.get(chunk.stream);
    const before = this.sequence;
    let text = (carried?.text ?? "") + chunk.text;
    let at = carried?.at ?? chunk.at;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n")) {
      lines.push({ sequence: ++this.sequence, at, stream: chunk.stream, text: text.slice(0, end) });
      text = text.slice(end + 1);
      at = chunk.at;
    }
    if (text.length === 0) this.partial.delete(chunk.stream);
    else if (carried && lines.length === 0) {
      carried.text = text;
      carried.chunks++;
    } else this.partial.set(chunk.stream, { at, text, seq, base: before, chunks: 1 });
    return lines;
  }

  /** Where each unfinished line began: the chunk's stream sequence and the line count before it. */
  pending(): { stream: LogStreamName; seq: number; base: number; chunks: number }[] {
    return [...this.partial.entries()].map(([stream, { seq, base, chunks }]) => ({
      stream,
      seq,
      base,
      chunks,
    }));
  }

  /**
   * Restores an unfinished line from the chunk it began in (LogPosition.open): the text after the
   * chunk's last newline.
   */
  open(chunk: Pick<LogChunkMessage, "at" | "stream" | "text">, seq: number, base: number): void {
    const text = chunk.text.slice(chunk.text.lastIndexOf("\n") + 1);
    if (text.length > 0) this.partial.set(chunk.stream, { at: chunk.at, text, seq, base, chunks: 1 });
  }

  /**
   * What is left when the log ends: lines without their final newline, stdout, stderr, system.
   * The streams in `skip` were flushed by an earlier read: they keep their numbers, not their lines.
   */
  flush(skip: readonly LogStreamName[] = []): LogLine[] {
    const rest: LogLine[] = [];
    for (const stream of FLUSH_ORDER) {
      const partial = this.partial.get(stream);
      if (skip.includes(stream)) this.sequence++;
      else if (partial) rest.push({ sequence: ++this.sequence, at: partial.at, stream, text: partial.text });
    }
    this.partial.clear();
    return rest;
  }
}

/**
 * Where a read resumes after line `line`, at the end of handling one chunk (or inside it, when
 * the page filled there): at the earliest chunk that holds a part of a line after `line`.
 * `produced` is what the chunk gave, the end flush's lines from `flushStart` on; `pending`, the
 * unfinished lines after the chunk, before any flush.
 */
function resumeAt(
  line: number,
  produced: readonly LogLine[],
  pending: ReturnType<LineSplitter["pending"]>,
  chunk: { seq: number; base: number; count: number },
  flushedBefore: readonly LogStreamName[],
  flushStart: number,
): LogPosition {
  const flushed = [
    ...flushedBefore,
    ...produced
      .slice(flushStart)
      .filter((l) => l.sequence <= line)
      .map((l) => l.stream),
  ];
  const open = pending.filter((p) => !flushed.includes(p.stream));
  // Lines in more than one chunk are read again from their first; one-chunk lines are fetched.
  const candidates = open.filter((p) => p.chunks > 1).map(({ seq, base }) => ({ seq, base }));
  candidates.push(
    produced.slice(0, flushStart).some((l) => l.sequence > line)
      ? { seq: chunk.seq, base: chunk.base }
      : { seq: chunk.seq + 1, base: chunk.count },
  );
  const earliest = candidates.reduce((a, b) => (b.seq < a.seq ? b : a));
  const fetched = open
    .filter((p) => p.chunks === 1 && p.seq < earliest.seq)
    .map(({ seq, base }) => ({ seq, base }));
  const position: LogPosition = {
    seq: earliest.seq,
    base: earliest.base,
    line,
    flushed: open.length > 0 ? flushed : [],
  };
  return fetched.length > 0 ? { ...position, open: fetched } : position;
}

/**
 * One page in the making: the chunks from a position, in stream order, go in; the lines after
 * the position (at most `first`), whether more exist, and the position after the last line
 * returned come out. Pure: LogReader feeds it from NATS, tests from arrays.
 */
export class PageBuilder {
  readonly lines: LogLine[] = [];
  hasMore = false;
  next: LogPosition;

  /** `splitter`: at the position (its count, and the lines `from.open` names restored). */
  constructor(
    private readonly from: LogPosition,
    private readonly first: number,
    private readonly ended: boolean,
    private readonly splitter: LineSplitter,
  ) {
    this.next = from;
  }

  /**
   * One chunk at stream sequence `seq` (null: a message that is not a valid chunk); `last`: the
   * last one stored. Returns true when the page is done.
   */
  take(chunk: Pick<LogChunkMessage, "at" | "stream" | "text"> | null, seq: number, last: boolean): boolean {
    const { from, first, splitter, lines } = this;
    const base = splitter.count;
    const produced = chunk ? splitter.push(chunk, seq) : [];
    const pending = splitter.pending();
    const flushStart = produced.length;
    const count = splitter.count;
    if (last && this.ended) produced.push(...splitter.flush(from.flushed));
    const wasFull = lines.length === first;
    for (const line of produced) {
      if (line.sequence <= from.line) continue;
      if (lines.length === first) {
        this.hasMore = true;
        break;
      }
      lines.push(line);
    }
    if (!wasFull) {
      const line = Math.max(from.line, lines.at(-1)?.sequence ?? 0);
      this.next = resumeAt(line, produced, pending, { seq, base, count }, from.flushed, flushStart);
    }
    return this.hasMore || last;
  }

  /**
   * No chunk is stored from the position on. When the log has ended, the lines `from.open`
   * restored are its last ones.
   */
  nothingStored(): void {
    const { from, first, splitter } = this;
    if (!this.ended || !from.open?.length) return;
    const pending = splitter.pending();
    const count = splitter.count;
    const produced = splitter.flush(from.flushed).filter((l) => l.sequence > from.line);
    this.lines.push(...produced.slice(0, first));
    this.hasMore = produced.length > first;
    const line = Math.max(from.line, this.lines.at(-1)?.sequence ?? 0);
    const at = { seq: from.seq - 1, base: from.base, count };
    this.next = resumeAt(line, produced, pending, at, from.flushed, 0);
  }

  page(): LogPage {
    return { lines: this.lines, hasMore: this.hasMore, next: this.next };
  }
}

/** What a read returns: the lines, whether more are stored now, and where the next read starts. */
export interface LogPage {
  lines: LogLine[];
  hasMore: boolean;
  next: LogPosition;
}

/**
 * Reads the log of an action execution from `<prefix>_LOGS` (one subject per action execution),
 * with ordered consumers filtered to its subject: no durable state on the server, and JetStream
 * keeps the order. A read starts at a position's stream sequence (`opt_start_seq`), so it costs
 * the chunks of the lines it returns, not those before them.
 */
export class LogReader {
  private readonly names: NatsNames;
  /**
   * Positions after the last line of recent pages, by log and line: a client that pages with the
   * line number alone (`after`) resumes where the page before it ended without reading from the
   * start, as long as it asks the same server copy.
   */
  private readonly recent = new Map<string, LogPosition>();
  private static readonly RECENT_POSITIONS = 10_000;

  constructor(
    private readonly nats: NatsLink,
    prefix: string,
  ) {
    this.names = natsNames(prefix);
  }

  /** The position after line `after` of this log: a remembered one, or a read from the start. */
  positionAfterLine(jobId: string, after: number): LogPosition {
    if (after <= 0) return LOG_START;
    return this.recent.get(`${jobId}:${after}`) ?? positionAfterLine(after);
  }

  private remember(jobId: string, position: LogPosition): void {
    if (position.line === 0) return;
    const key = `${jobId}:${position.line}`;
    this.recent.delete(key);
    this.recent.set(key, position);
    if (this.recent.size > LogReader.RECENT_POSITIONS) this.recent.delete(this.recent.keys().next().value!);
  }

  private connection() {
    const nc = this.nats.nats;
    if (!nc) throw new Error("NATS is not connected");
    return nc;
  }

  /** The stream sequence of the log's last stored chunk; 0 when it has none. */
  async lastChunkSeq(jobId: string): Promise<number> {
    const jsm = await jetstreamManager(this.connection(), { checkAPI: false });
    const last = await jsm.streams.getMessage(this.names.streams.logs, {
      last_by_subj: this.names.subjects.log(jobId),
    });
    return last?.seq ?? 0;
  }

  /** A splitter as it was at `from`: its count, and the one-chunk unfinished lines fetched by sequence. */
  private async splitterAt(jobId: string, from: LogPosition): Promise<LineSplitter> {
    const splitter = new LineSplitter(from.base);
    if (!from.open?.length) return splitter;
    const jsm = await jetstreamManager(this.connection(), { checkAPI: false });
    const subject = this.names.subjects.log(jobId);
    const chunks = await Promise.all(
      from.open.map((o) => jsm.streams.getMessage(this.names.streams.logs, { seq: o.seq })),
    );
    from.open.forEach((o, i) => {
      const msg = chunks[i];
      const chunk = msg && msg.subject === subject ? decode("logChunk", msg.data, msg.subject) : null;
      if (chunk?.ok) splitter.open(chunk.message, o.seq, o.base);
    });
    return splitter;
  }

  /** Ordered-consumer options that start at `position` on the log's subject. */
  private consumerOptions(jobId: string, position: LogPosition): Partial<OrderedConsumerOptions> {
    const filter_subjects = this.names.subjects.log(jobId);
    return position.seq > 0
      ? {
          filter_subjects,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: position.seq,
        }
      : { filter_subjects };
  }

  /**
   * Lines after `from`, at most `first` of them, whether more exist now, and the position after
   * the last one returned. `ended` says the attempt has ended, so a partial last line is a whole line.
   */
  async read(jobId: string, from: LogPosition, first: number, ended: boolean): Promise<LogPage> {
    const nc = this.connection();
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: CONSUMER_CREATE_TIMEOUT_MS });
    const stream = this.names.streams.logs;
    // One ephemeral consumer per read, created at the position. Its replica may be a node that is
    // still catching up after a restart (a one-replica consumer of a replicated stream is placed on
    // any of the stream's nodes), so where the log ends is asked of the stream's leader meanwhile:
    // the read goes on to that chunk, from the leader when the consumer's copy stops short.
    const [info, splitter, lastSeq] = await Promise.all([
      this.addReadConsumer(jsm, jobId, from).catch((error: unknown) => {
        if (isTransientNatsError(error)) return null;
        throw error;
      }),
      // The unfinished lines the position fetches by sequence, meanwhile.
      this.splitterAt(jobId, from),
      this.lastChunkSeq(jobId),
    ]);
    const page = new PageBuilder(from, first, ended, splitter);
    try {
      if (lastSeq === 0 || lastSeq < from.seq) {
        page.nothingStored();
        return page.page();
      }
      let seen = Math.max(0, from.seq - 1);
      if (info && info.num_pending > 0) {
        const consumer = jetstream(nc).consumers.getConsumerFromInfo(info);
        const stored = info.num_pending;
        let delivered = 0;
        let batch = 8;
        while (seen < lastSeq && delivered < stored) {
          const messages = await consumer.fetch({
            max_messages: Math.min(batch, stored - delivered),
            expires: 5000,
          });
          batch = Math.min(256, batch * 2);
          let got = 0;
          for await (const msg of messages) {
            got++;
            delivered++;
            if (msg.seq > lastSeq) continue; // stored after the read began: the next read has it
            const chunk = decode("logChunk", msg.data, msg.subject);
            seen = msg.seq;
            if (page.take(chunk.ok ? chunk.message : null, msg.seq, msg.seq >= lastSeq)) return page.page();
          }
          // Chunks removed meanwhile (the stream's limits): what is left was read.
          if (got === 0) break;
        }
      }
      // No consumer (a cluster that lost a node), or its copy of the stream ends before the
      // leader's: the rest chunk by chunk from the leader.
      if (seen < lastSeq) await this.readChunkByChunk(jsm, jobId, seen + 1, lastSeq, page);
    } finally {
      if (info) jsm.consumers.delete(stream, info.name).catch(() => false);
      this.remember(jobId, page.next);
    }
    return page.page();
  }

  /** The read's ephemeral consumer, at the position, filtered to the log's subject. */
  protected addReadConsumer(jsm: JetStreamManager, jobId: string, from: LogPosition) {
    return jsm.consumers.add(this.names.streams.logs, {
      filter_subject: this.names.subjects.log(jobId),
      ...(from.seq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq }
        : { deliver_policy: DeliverPolicy.All }),
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(READ_CONSUMER_IDLE_MS),
    });
  }

  /**
   * The chunks from stream sequence `from` to `lastSeq`, one request each (STREAM.MSG.GET with
   * next_by_subj, answered by the stream's leader). Slower for long logs; used when the read's
   * consumer cannot be created or its copy of the stream is behind the leader's.
   */
  private async readChunkByChunk(
    jsm: JetStreamManager,
    jobId: string,
    from: number,
    lastSeq: number,
    page: PageBuilder,
  ): Promise<void> {
    const stream = this.names.streams.logs;
    const subject = this.names.subjects.log(jobId);
    for (let seq = from; seq <= lastSeq;) {
      // nats-server 2.9's STREAM.MSG.GET takes next_by_subj; nats.js types it for direct gets only.
      const query = { seq, next_by_subj: subject } as unknown as { seq: number };
      const msg = await jsm.streams.getMessage(stream, query);
      if (!msg || msg.seq > lastSeq) return;
      const chunk = decode("logChunk", msg.data, msg.subject);
      if (page.take(chunk.ok ? chunk.message : null, msg.seq, msg.seq >= lastSeq)) return;
      seq = msg.seq + 1;
    }
  }

  /**
   * Follows the log: every line after `from`, as it arrives, until `stop()`. `end()` says the
   * attempt has ended (its final state event): the agent stored every chunk before its complete,
   * so the log's last stored chunk is its end; once that chunk is handled, the last partial
   * lines are flushed and `onEnd` runs. No timer, no polling.
   */
  async follow(
    jobId: string,
    from: LogPosition,
    onLine: (line: LogLine) => void,
    onEnd: () => void,
    onError: (error: unknown) => void,
  ): Promise<{ stop(): void; end(): void }> {
    // Tried again when a cluster that lost a node placed the one-replica consumer there.
    const js = jetstream(this.connection(), { timeout: CONSUMER_CREATE_TIMEOUT_MS });
    const consumer = await (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await js.consumers.get(this.names.streams.logs, this.consumerOptions(jobId, from));
        } catch (error) {
          if (attempt >= FOLLOW_CREATE_TRIES || !isTransientNatsError(error)) throw error;
        }
      }
    })();
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 256 });
    const splitter = await this.splitterAt(jobId, from);
    /** Stream sequence of the last chunk handled (before `from.seq` at the start). */
    let handled = Math.max(0, from.seq - 1);
    let endSeq: number | null = null;
    let ending = false;
    let stopped = false;
    const emit = (lines: LogLine[]) => {
      for (const line of lines) if (line.sequence > from.line) onLine(line);
    };
    const finish = () => {
      if (stopped) return;
      stopped = true;
      messages.stop();
    };
    const maybeEnd = () => {
      if (stopped || endSeq === null || handled < endSeq) return;
      emit(splitter.flush(from.flushed));
      finish();
      onEnd();
    };
    void (async () => {
      for await (const msg of messages) {
        handled = msg.seq;
        const chunk = decode("logChunk", msg.data, msg.subject);
        if (chunk.ok) emit(splitter.push(chunk.message, msg.seq));
        maybeEnd();
      }
    })().catch((error: unknown) => {
      if (!stopped) onError(error);
    });
    return {
      stop: finish,
      end: () => {
        if (ending) return;
        ending = true;
        this.lastChunkSeq(jobId).then(
          (seq) => {
            endSeq = seq;
            maybeEnd();
          },
          (error: unknown) => {
            if (stopped) return;
            finish();
            onError(error);
          },
        );
      },
    };
  }
}
