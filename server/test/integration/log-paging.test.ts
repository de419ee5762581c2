/**
 * Paging a long log from stream positions (server/src/messaging/log-reader.ts) on the real NATS:
 * every line once and in order, a cursor from anywhere resumes exactly, and a follow ends when it
 * is told the attempt ended, at the log's last stored chunk.
 */
import crypto from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { encode, msgIds, natsNames } from "@sluice/protocol";
import { createLogger } from "../../src/logger";
import { ensureJetStream } from "../../src/messaging/jetstream-setup";
import {
  decodeLogCursor,
  encodeLogCursor,
  LOG_START,
  LogReader,
  type LogLine,
  type LogPosition,
  type LogStreamName,
} from "../../src/messaging/log-reader";
import { NatsLink } from "../../src/messaging/nats";
import { deleteStreams, NATS_URL } from "../support/nats";

jest.setTimeout(120_000);

const prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
const names = natsNames(prefix);
let link: NatsLink;
let reader: LogReader;

beforeAll(async () => {
  link = new NatsLink([NATS_URL], prefix, createLogger("silent"));
  await link.connected();
  await ensureJetStream(link.nats!, prefix);
  reader = new LogReader(link, prefix);
});
afterAll(async () => {
  await link.close();
  await deleteStreams(prefix);
});

/** mulberry32: the same log on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Chunk {
  stream: LogStreamName;
  text: string;
}

/**
 * `lines` lines over three streams, cut into chunks the way an agent's buffer cuts them: at any
 * character, so that lines span chunks and the streams interleave. The last line of stdout and of
 * stderr have no newline (they end with the log).
 */
function makeLog(lines: number, seed: number): Chunk[] {
  const rand = random(seed);
  const streams: LogStreamName[] = ["stdout", "stderr", "system"];
  const text: Record<LogStreamName, string> = { stdout: "", stderr: "", system: "" };
  for (let i = 0; i < lines; i++) {
    const stream = streams[rand() < 0.7 ? 0 : rand() < 0.8 ? 1 : 2]!;
    text[stream] += `${stream} line ${i} ${"x".repeat(Math.floor(rand() * 40))}\n`;
  }
  text.stdout = text.stdout.slice(0, -1);
  text.stderr = text.stderr.slice(0, -1);
  const chunks: Chunk[] = [];
  const at: Record<LogStreamName, number> = { stdout: 0, stderr: 0, system: 0 };
  while (streams.some((s) => at[s] < text[s].length)) {
    const stream = streams[Math.floor(rand() * 3)]!;
    if (at[stream] >= text[stream].length) continue;
    const size = 1 + Math.floor(rand() * 3000);
    chunks.push({ stream, text: text[stream].slice(at[stream], at[stream] + size) });
    at[stream] += size;
  }
  return chunks;
}

/** Publishes the chunks as an agent does, other logs' chunks in between (the stream is shared). */
async function publish(jobId: string, chunks: Chunk[], firstSequence = 1): Promise<void> {
  const js = jetstream(link.nats!);
  const other = crypto.randomUUID();
  for (let i = 0; i < chunks.length; i += 200) {
    await Promise.all(
      chunks.slice(i, i + 200).flatMap((chunk, j) => {
        const sequence = firstSequence + i + j;
        const send = (id: string, c: Chunk, seq: number) =>
          js.publish(
            names.subjects.log(id),
            encode("logChunk", {
              jobId: id,
              attempt: 1,
              sequence: seq,
              at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, seq)).toISOString(),
              ...c,
            }),
            { msgID: msgIds.logChunk(id, 1, seq) },
          );
        return j % 3 === 0
          ? [
              send(jobId, chunk, sequence),
              send(other, { stream: "stdout", text: "not this log\n" }, sequence),
            ]
          : [send(jobId, chunk, sequence)];
      }),
    );
  }
}

/** Every line, page after page of `first`, each page from the position the last one gave. */
async function pageThrough(jobId: string, first: number, ended: boolean, from: LogPosition = LOG_START) {
  const lines: LogLine[] = [];
  let position = from;
  let pages = 0;
  for (;;) {
    const page = await reader.read(jobId, position, first, ended);
    pages++;
    lines.push(...page.lines);
    if (page.hasMore) expect(page.lines).toHaveLength(first);
    position = page.next;
    if (!page.hasMore) return { lines, pages, end: position };
  }
}

/** The log's lines by an independent count: a line ends where its stream's newline is published. */
function expectedLines(chunks: Chunk[], ended: boolean): string[] {
  const open: Record<LogStreamName, string> = { stdout: "", stderr: "", system: "" };
  const lines: string[] = [];
  for (const chunk of chunks) {
    const parts = (open[chunk.stream] + chunk.text).split("\n");
    open[chunk.stream] = parts.pop()!;
    lines.push(...parts);
  }
  if (ended) for (const s of ["stdout", "stderr", "system"] as const) if (open[s] !== "") lines.push(open[s]);
  return lines;
}

describe("a 50,000-line log in many chunks", () => {
  const jobId = crypto.randomUUID();
  const chunks = makeLog(50_000, 7);
  let all: LogLine[];

  beforeAll(async () => {
    expect(chunks.length).toBeGreaterThan(500);
    await publish(jobId, chunks);
    all = (await pageThrough(jobId, 10_000, true)).lines;
  });

  it("gives every line once, in order, numbered from 1, page after page", async () => {
    expect(all.map((l) => l.text)).toEqual(expectedLines(chunks, true));
    expect(all.map((l) => l.sequence)).toEqual(all.map((_, i) => i + 1));
    const { lines, pages } = await pageThrough(jobId, 997, true);
    expect(pages).toBe(Math.ceil(all.length / 997));
    expect(lines).toEqual(all);
  });

  it("resumes exactly from a cursor taken anywhere, the ending lines included", async () => {
    const rand = random(3);
    const cuts = [1, 2, all.length - 3, all.length - 2, all.length - 1, all.length];
    for (let i = 0; i < 25; i++) cuts.push(1 + Math.floor(rand() * (all.length - 1)));
    for (const cut of cuts) {
      // A page that ends at line `cut`, read from a position near it, not from the start.
      const near = await reader.read(jobId, LOG_START, Math.max(1, cut - 5), true);
      const upTo = await reader.read(jobId, near.next, cut - near.lines.at(-1)!.sequence, true);
      const last = upTo.lines.at(-1)?.sequence ?? near.lines.at(-1)!.sequence;
      expect(last).toBe(cut);
      const cursor = encodeLogCursor(jobId, upTo.lines.length > 0 ? upTo.next : near.next);
      const position = decodeLogCursor(jobId, cursor)!;
      expect(position.line).toBe(cut);
      const page = await reader.read(jobId, position, 40, true);
      expect(page.lines).toEqual(all.slice(cut, cut + 40));
      expect(page.hasMore).toBe(cut + 40 < all.length);
    }
  });

  it("reads a page after only the chunks of its lines", async () => {
    // From a cursor near the end, a page of 10 lines sees a handful of chunks: the position
    // points into the stream, so nothing before it is read (the count is the splitter's base).
    // stderr and system stopped long before (makeLog), stderr inside a line: that line is
    // fetched by its sequence, not read again with every chunk since.
    const near = await reader.read(jobId, LOG_START, all.length - 100, true);
    expect(near.next.seq).toBeGreaterThan(chunks.length);
    expect(near.next.base).toBeGreaterThan(all.length - 200);
    expect(near.next.open).toHaveLength(1);
    const page = await reader.read(jobId, near.next, 10, true);
    expect(page.lines).toEqual(all.slice(all.length - 100, all.length - 90));
  });

  it("refuses a cursor of another log and a damaged one", () => {
    const cursor = encodeLogCursor(jobId, { seq: 5, base: 3, line: 4, flushed: [] });
    expect(decodeLogCursor(jobId, cursor)).toEqual({ seq: 5, base: 3, line: 4, flushed: [] });
    expect(decodeLogCursor(crypto.randomUUID(), cursor)).toBeNull();
    expect(decodeLogCursor(jobId, cursor.slice(0, -2))).toBeNull();
    expect(decodeLogCursor(jobId, "not a cursor!")).toBeNull();
  });

  it("pages by line number alone (`after`) the same way", async () => {
    const page = await reader.read(jobId, reader.positionAfterLine(jobId, 12_345), 100, true);
    expect(page.lines).toEqual(all.slice(12_345, 12_445));
    // The position after that page is remembered: the next page by number starts there.
    expect(reader.positionAfterLine(jobId, 12_445)).toEqual(page.next);
  });
});

describe("a log still being written", () => {
  it("holds back the unfinished last lines until the attempt ends, then gives them once", async () => {
    const jobId = crypto.randomUUID();
    const chunks = makeLog(3_000, 11);
    await publish(jobId, chunks);
    const running = await pageThrough(jobId, 500, false);
    expect(running.lines.map((l) => l.text)).toEqual(expectedLines(chunks, false));
    const rest = await pageThrough(jobId, 500, true, running.end);
    expect([...running.lines, ...rest.lines].map((l) => l.text)).toEqual(expectedLines(chunks, true));
    expect(rest.lines.map((l) => l.sequence)).toEqual(rest.lines.map((_, i) => running.lines.length + i + 1));
  });
});

describe("follow", () => {
  it("sends the lines after a cursor as they come and ends at the last chunk once told the attempt ended", async () => {
    const jobId = crypto.randomUUID();
    const chunks = makeLog(5_000, 5);
    const half = Math.floor(chunks.length / 2);
    await publish(jobId, chunks.slice(0, half));
    const start = (await reader.read(jobId, LOG_START, 1_000, false)).next;
    const followed: LogLine[] = [];
    let failed: unknown = null;
    const ended = new Promise<void>((resolve) => {
      void reader
        .follow(
          jobId,
          start,
          (line) => followed.push(line),
          resolve,
          (error) => (failed = error),
        )
        .then(async (follower) => {
          // The rest of the log is stored (as an agent stores it before its complete), then the
          // attempt's final event: the follow ends after the last chunk, whenever it gets there.
          await publish(jobId, chunks.slice(half), half + 1);
          follower.end();
        });
    });
    await ended;
    expect(failed).toBeNull();
    const expected = expectedLines(chunks, true);
    expect(followed.map((l) => l.text)).toEqual(expected.slice(1_000));
    expect(followed.map((l) => l.sequence)).toEqual(followed.map((_, i) => 1_001 + i));
  });

  it("ends at once for a log that ended before the follow reached its end, and for an empty one", async () => {
    const jobId = crypto.randomUUID();
    await publish(jobId, [{ stream: "stdout", text: "one\ntwo" }]);
    for (const [id, expected] of [
      [jobId, ["one", "two"]],
      [crypto.randomUUID(), []],
    ] as const) {
      const lines: string[] = [];
      await new Promise<void>((resolve, reject) => {
        void reader
          .follow(id, LOG_START, (line) => lines.push(line.text), resolve, reject)
          .then((follower) => follower.end());
      });
      expect(lines).toEqual(expected);
    }
  });
});
