import fc from "fast-check";
import {
  decodeLogCursor,
  encodeLogCursor,
  LineSplitter,
  LOG_START,
  PageBuilder,
  type LogPage,
  type LogPosition,
  type LogStreamName,
} from "./log-reader";

const at = (n: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString();

describe("LineSplitter", () => {
  it("splits chunks into numbered lines, keeping partial lines per stream until they end", () => {
    const s = new LineSplitter();
    expect(s.push({ at: at(1), stream: "stdout", text: "one\ntw" })).toEqual([
      { sequence: 1, at: at(1), stream: "stdout", text: "one" },
    ]);
    expect(s.push({ at: at(2), stream: "stderr", text: "warn\n" })).toEqual([
      { sequence: 2, at: at(2), stream: "stderr", text: "warn" },
    ]);
    expect(s.push({ at: at(3), stream: "stdout", text: "o\nthree\nfour" })).toEqual([
      { sequence: 3, at: at(1), stream: "stdout", text: "two" },
      { sequence: 4, at: at(3), stream: "stdout", text: "three" },
    ]);
    expect(s.flush()).toEqual([{ sequence: 5, at: at(3), stream: "stdout", text: "four" }]);
    expect(s.flush()).toEqual([]);
  });

  it("gives back exactly the text of each stream, whatever the chunk boundaries", () => {
    const streams: LogStreamName[] = ["stdout", "stderr", "system"];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            stream: fc.constantFrom(...streams),
            text: fc.string({ minLength: 1, maxLength: 20 }),
          }),
          {
            maxLength: 40,
          },
        ),
        (chunks) => {
          const s = new LineSplitter();
          const lines = [...chunks.flatMap((c, i) => s.push({ at: at(i), ...c })), ...s.flush()];
          expect(lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));
          for (const stream of streams) {
            const sent = chunks
              .filter((c) => c.stream === stream)
              .map((c) => c.text)
              .join("");
            const got = lines.filter((l) => l.stream === stream).map((l) => l.text);
            const expected = sent.endsWith("\n")
              ? sent.slice(0, -1).split("\n")
              : sent === ""
                ? []
                : sent.split("\n");
            expect(got).toEqual(expected);
          }
        },
      ),
    );
  });
});

/** A stored log: its chunks at their stream sequences (other logs' messages in the gaps). */
type Stored = { seq: number; chunk: { at: string; stream: LogStreamName; text: string } }[];

/** What LogReader.read does, over an array instead of a consumer at `from.seq`. */
function readPage(store: Stored, from: LogPosition, first: number, ended: boolean): LogPage {
  const splitter = new LineSplitter(from.base);
  for (const o of from.open ?? []) {
    const stored = store.find((c) => c.seq === o.seq);
    if (stored) splitter.open(stored.chunk, o.seq, o.base);
  }
  const page = new PageBuilder(from, first, ended, splitter);
  const rest = store.filter((c) => c.seq >= from.seq);
  if (rest.length === 0) page.nothingStored();
  for (let i = 0; i < rest.length; i++) {
    if (page.take(rest[i]!.chunk, rest[i]!.seq, i === rest.length - 1)) break;
  }
  return page.page();
}

const storedLog = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 1, max: 3 }),
      stream: fc.constantFrom<LogStreamName>("stdout", "stderr", "system"),
      text: fc
        .array(fc.constantFrom("a", "b", "c", "\n"), { minLength: 1, maxLength: 14 })
        .map((c) => c.join("")),
    }),
    { maxLength: 30 },
  )
  .map((chunks) => {
    let seq = 0;
    return chunks.map(({ gap, stream, text }, i) => ({
      seq: (seq += gap),
      chunk: { at: at(i), stream, text },
    }));
  });

describe("PageBuilder", () => {
  it("pages of any size, each from the cursor of the one before, give the whole log once", () => {
    fc.assert(
      fc.property(
        storedLog,
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (store, sizes, ended) => {
          const all = readPage(store, LOG_START, 1_000_000, ended).lines;
          expect(all.map((l) => l.sequence)).toEqual(all.map((_, i) => i + 1));
          const got = [];
          let position: LogPosition = LOG_START;
          for (let i = 0; ; i++) {
            const page = readPage(store, position, sizes[i % sizes.length]!, ended);
            got.push(...page.lines);
            const cursor = encodeLogCursor("job", page.next);
            expect(decodeLogCursor("job", cursor)).toEqual(page.next);
            position = decodeLogCursor("job", cursor)!;
            if (!page.hasMore) break;
          }
          expect(got).toEqual(all);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("resumes after any line exactly, and a log that grew and ended continues where it was left", () => {
    fc.assert(
      fc.property(storedLog, fc.nat(), (store, cut) => {
        const all = readPage(store, LOG_START, 1_000_000, true).lines;
        for (let k = 1; k <= all.length; k++) {
          const upTo = readPage(store, LOG_START, k, true);
          expect(upTo.next.line).toBe(k);
          expect(readPage(store, upTo.next, 1_000_000, true).lines).toEqual(all.slice(k));
        }
        // Read while only some chunks were stored and the attempt ran, then the rest once it ended.
        const early = store.slice(0, cut % (store.length + 1));
        const before = readPage(early, LOG_START, 1_000_000, false);
        const after = readPage(store, before.next, 1_000_000, true);
        expect([...before.lines, ...after.lines]).toEqual(all);
      }),
      { numRuns: 500 },
    );
  });
});
