/**
 * Turns what a job's processes write into LogChunkMessages (PROTOCOL.md sections 5.4 and 10): one
 * stream per chunk, chunks cut at line ends, published in order with sequences 1, 2, … and no gaps,
 * each one retried with the same de-duplication id until the stream stored it.
 */
import { LIMITS, TIMINGS, type LogChunkMessage, type LogStream } from "@sluice/protocol";
import type { LogSink } from "../providers/types";
import { SecretMasker, type StreamMasker } from "./secret-mask";

/** Stores one chunk; rejects when it could not (the sink then retries the same chunk). */
export type ChunkPublisher = (chunk: LogChunkMessage) => Promise<void>;

export interface JobLogOptions {
  jobId: string;
  attempt: number;
  publish: ChunkPublisher;
  /** Log bytes (UTF-8) this attempt may publish; the truncation notice is not counted. */
  capBytes?: number;
  /** Publish buffered text at the latest this long after it was written. */
  flushMs?: number;
  /** Wait before publishing a chunk again after a failure; grows up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Called when a publish failed (before the retry), for the agent's own log. */
  onPublishError?: (error: Error, chunk: LogChunkMessage) => void;
  now?: () => Date;
}

/** The largest chunk text, in characters, and its budget in JSON bytes (see `weightOf`). */
const CHUNK_CHARS = LIMITS.logChunkLength;
const CHUNK_WEIGHT = 16 * 1024;

interface OpenChunk {
  stream: LogStream;
  text: string;
  weight: number;
  at: Date;
}

interface HeldLine {
  text: string;
  at: Date;
}

export class JobLog implements LogSink {
  private readonly capBytes: number;
  private readonly flushMs: number;
  private readonly now: () => Date;
  private readonly decoders = { stdout: new TextDecoder("utf-8"), stderr: new TextDecoder("utf-8") };
  /** The unfinished last line of each stream, held until its end arrives or it is old enough. */
  private readonly partial: Record<"stdout" | "stderr", HeldLine | null> = { stdout: null, stderr: null };
  private open: OpenChunk | null = null;
  private readonly queue: LogChunkMessage[] = [];
  private pumping: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sequence = 0;
  private published = 0;
  private bytesKept = 0;
  private bytesDropped = 0;
  private closed = false;
  private abandoned = false;
  private retryWake: (() => void) | null = null;
  /** The job's secret values, hidden before any text is cut into chunks (secret-mask.ts). */
  private masker: SecretMasker | null = null;
  private readonly streamMasks: Record<"stdout" | "stderr", StreamMasker | null> = {
    stdout: null,
    stderr: null,
  };

  constructor(private readonly options: JobLogOptions) {
    this.capBytes = options.capBytes ?? LIMITS.logBytesPerAttempt;
    this.flushMs = options.flushMs ?? TIMINGS.logFlushMs;
    this.now = options.now ?? (() => new Date());
  }

  /** Sequence of the last chunk handed to the publisher (0: none yet). */
  get lastSequence(): number {
    return this.sequence;
  }

  /** Sequence of the last chunk the stream acknowledged. */
  get lastPublished(): number {
    return this.published;
  }

  get droppedBytes(): number {
    return this.bytesDropped;
  }

  /**
   * Hides these values in everything written from now on (call it before the job's process
   * starts): each stream is masked as it streams, so a value split across writes is still found.
   */
  maskSecrets(values: Iterable<string>): void {
    const masker = new SecretMasker(values);
    if (masker.empty) return;
    this.masker = masker;
    this.streamMasks.stdout = masker.stream();
    this.streamMasks.stderr = masker.stream();
  }

  write(stream: "stdout" | "stderr", data: string | Uint8Array): void {
    if (this.closed) return;
    // Streaming decode: a multi-byte character split across two reads stays whole, and bytes that
    // are not UTF-8 become U+FFFD instead of breaking the message.
    const decoded = typeof data === "string" ? data : this.decoders[stream].decode(data, { stream: true });
    const mask = this.streamMasks[stream];
    const text = mask ? mask.push(decoded) : decoded;
    if (text.length > 0) this.take(stream, text);
  }

  system(line: string): void {
    if (this.closed) return;
    const text = this.masker ? this.masker.mask(line) : line;
    this.addLine("system", `${text.replace(/\n+$/, "")}\n`, this.now());
    this.schedule();
  }

  /** Publishes everything pending, and the truncation notice; resolves with the last sequence. */
  async close(): Promise<number> {
    if (!this.closed) {
      for (const stream of ["stdout", "stderr"] as const) {
        const decoded = this.decoders[stream].decode();
        const mask = this.streamMasks[stream];
        const rest = mask ? mask.push(decoded) + mask.end() : decoded;
        if (rest.length > 0) this.take(stream, rest);
        this.flushPartial(stream);
      }
      this.seal();
      this.closed = true;
      this.clearTimer();
      if (this.bytesDropped > 0) {
        this.enqueue({
          stream: "system",
          text: `log truncated: ${this.bytesDropped} bytes dropped\n`,
          weight: 0,
          at: this.now(),
        });
      }
    }
    await this.pump();
    return this.sequence;
  }

  /** Stops retrying: chunks not yet stored are given up (the agent is leaving). */
  abandon(): void {
    this.abandoned = true;
    this.closed = true;
    this.clearTimer();
    this.queue.length = 0;
    this.retryWake?.();
  }

  // -------------------------------------------------------------------------------------------

  private take(stream: "stdout" | "stderr", text: string): void {
    const now = this.now();
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      const piece = text.slice(start, nl + 1);
      const held = this.partial[stream];
      this.partial[stream] = null;
      this.addLine(stream, held ? held.text + piece : piece, held ? held.at : now);
      start = nl + 1;
    }
    if (start < text.length) {
      const held = this.partial[stream];
      const merged: HeldLine = { text: (held?.text ?? "") + text.slice(start), at: held?.at ?? now };
      // A line longer than a chunk goes out in chunk-sized pieces.
      while (merged.text.length >= CHUNK_CHARS) {
        const cut = cutPoint(merged.text, CHUNK_CHARS, CHUNK_WEIGHT);
        this.addLine(stream, merged.text.slice(0, cut), merged.at);
        merged.text = merged.text.slice(cut);
      }
      this.partial[stream] = merged.text.length > 0 ? merged : null;
    }
    this.schedule();
  }

  /** Adds text that ends a line (or a piece of an over-long line) to the open chunk. */
  private addLine(stream: LogStream, line: string, at: Date): void {
    let rest = line;
    while (rest.length > 0) {
      const cut = cutPoint(rest, CHUNK_CHARS, CHUNK_WEIGHT);
      const piece = rest.slice(0, cut);
      rest = rest.slice(cut);
      if (!this.admit(piece)) continue;
      const weight = weightOf(piece);
      const open = this.open;
      if (
        open &&
        (open.stream !== stream ||
          open.text.length + piece.length > CHUNK_CHARS ||
          open.weight + weight > CHUNK_WEIGHT)
      ) {
        this.seal();
      }
      if (this.open) {
        this.open.text += piece;
        this.open.weight += weight;
      } else {
        this.open = { stream, text: piece, weight, at };
      }
      if (this.open.weight >= CHUNK_WEIGHT || this.open.text.length >= CHUNK_CHARS) this.seal();
    }
  }

  /** Counts the text against the attempt's cap; false once the cap is reached (it is dropped). */
  private admit(text: string): boolean {
    const bytes = Buffer.byteLength(text, "utf8");
    if (this.bytesDropped === 0 && this.bytesKept + bytes <= this.capBytes) {
      this.bytesKept += bytes;
      return true;
    }
    this.bytesDropped += bytes;
    return false;
  }

  private flushPartial(stream: "stdout" | "stderr"): void {
    const held = this.partial[stream];
    this.partial[stream] = null;
    if (held) this.addLine(stream, held.text, held.at);
  }

  private seal(): void {
    const open = this.open;
    this.open = null;
    if (open) this.enqueue(open);
  }

  private enqueue(chunk: OpenChunk): void {
    this.sequence += 1;
    this.queue.push({
      jobId: this.options.jobId,
      attempt: this.options.attempt,
      sequence: this.sequence,
      at: chunk.at.toISOString(),
      stream: chunk.stream,
      text: chunk.text,
    });
    void this.pump();
  }

  /** Arms the flush timer for the oldest unsent text: the open chunk or a held partial line. */
  private schedule(): void {
    if (this.closed) return;
    const oldest = [this.open?.at, this.partial.stdout?.at, this.partial.stderr?.at]
      .filter((d): d is Date => d !== undefined)
      .reduce<number | null>((min, d) => (min === null || d.getTime() < min ? d.getTime() : min), null);
    if (oldest === null) {
      this.clearTimer();
      return;
    }
    if (this.timer) return;
    const delay = Math.max(0, oldest + this.flushMs - this.now().getTime());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushDue();
    }, delay);
    this.timer.unref();
  }

  private flushDue(): void {
    if (this.closed) return;
    const due = this.now().getTime() - this.flushMs;
    for (const stream of ["stdout", "stderr"] as const) {
      const held = this.partial[stream];
      // A line without its end yet goes out once it has waited as long as a chunk may.
      if (held && held.at.getTime() <= due) this.flushPartial(stream);
    }
    this.seal();
    this.schedule();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Publishes queued chunks one after another, in order, each until the stream stored it. */
  private pump(): Promise<void> {
    if (this.pumping) return this.pumping;
    const run = async () => {
      let delay = this.options.retryDelayMs ?? 200;
      while (this.queue.length > 0 && !this.abandoned) {
        const chunk = this.queue[0]!;
        try {
          await this.options.publish(chunk);
          this.queue.shift();
          this.published = chunk.sequence;
          delay = this.options.retryDelayMs ?? 200;
        } catch (error) {
          this.options.onPublishError?.(error as Error, chunk);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            this.retryWake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.retryWake = null;
          delay = Math.min(delay * 2, this.options.maxRetryDelayMs ?? 5000);
        }
      }
    };
    this.pumping = run().finally(() => {
      this.pumping = null;
    });
    return this.pumping;
  }
}

/**
 * How many JSON bytes the text costs in a message: UTF-8 bytes, and six for a control character
 * that JSON escapes as \u00XX, so that a chunk of binary junk still fits the 64 KiB message limit.
 */
export function weightOf(text: string): number {
  let weight = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 || code === 0x5c || (code >= 0x08 && code <= 0x0d && code !== 0x0b)) weight += 2;
    else if (code < 0x20) weight += 6;
    else if (code < 0x80) weight += 1;
    else if (code < 0x800) weight += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      weight += 4;
      i += 1;
    } else weight += 3;
  }
  return weight;
}

/** Where to cut `text` so that the head has at most `maxChars` and `maxWeight`, never inside a surrogate pair. */
function cutPoint(text: string, maxChars: number, maxWeight: number): number {
  if (text.length <= maxChars && weightOf(text) <= maxWeight) return text.length;
  let weight = 0;
  let i = 0;
  while (i < text.length && i < maxChars) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length;
    const step = pair ? 2 : 1;
    const w = weightOf(text.slice(i, i + step));
    if (weight + w > maxWeight || i + step > maxChars) break;
    weight += w;
    i += step;
  }
  return Math.max(i, 1);
}
