import fc from "fast-check";
import { LineSplitter, type LogStreamName } from "./log-reader";

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
