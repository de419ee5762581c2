/** The job log: chunking at lines, flush timing, ordering and retries, the per-attempt cap, UTF-8. */
import { LIMITS, MAX_MESSAGE_BYTES, encode, type LogChunkMessage } from "@sluice/protocol";
import { JobLog, type JobLogOptions } from "../src/logs/log-sink";
import { waitFor } from "./support/wait";

function sink(options: Partial<JobLogOptions> = {}) {
  const chunks: LogChunkMessage[] = [];
  const log = new JobLog({
    jobId: "job-1",
    attempt: 2,
    flushMs: 20,
    retryDelayMs: 5,
    publish: async (chunk) => {
      // Every chunk must be a valid message that fits the stream.
      expect(encode("logChunk", chunk).byteLength).toBeLessThanOrEqual(MAX_MESSAGE_BYTES.logChunk);
      chunks.push(chunk);
    },
    ...options,
  });
  return { log, chunks };
}

const text = (chunks: LogChunkMessage[], stream?: string) =>
  chunks
    .filter((c) => stream === undefined || c.stream === stream)
    .map((c) => c.text)
    .join("");

describe("JobLog", () => {
  it("batches lines of one stream into a chunk, numbered from 1, stamped with its first line", async () => {
    const times = [new Date("2025-01-31T09:15:00.000Z"), new Date("2025-01-31T09:15:00.100Z")];
    let tick = 0;
    const { log, chunks } = sink({ now: () => times[Math.min(tick++, times.length - 1)]! });
    log.write("stdout", "one\n");
    log.write("stdout", "two\nthree\n");
    expect(await log.close()).toBe(1);
    expect(chunks).toEqual([
      {
        jobId: "job-1",
        attempt: 2,
        sequence: 1,
        at: "2025-01-31T09:15:00.000Z",
        stream: "stdout",
        text: "one\ntwo\nthree\n",
      },
    ]);
  });

  it("starts a new chunk when the stream changes, keeping the order of writes", async () => {
    const { log, chunks } = sink();
    log.write("stdout", "a\n");
    log.write("stderr", "b\n");
    log.system("narration");
    log.write("stdout", "c\n");
    await log.close();
    expect(chunks.map((c) => [c.sequence, c.stream, c.text])).toEqual([
      [1, "stdout", "a\n"],
      [2, "stderr", "b\n"],
      [3, "system", "narration\n"],
      [4, "stdout", "c\n"],
    ]);
  });

  it("ends chunks at line boundaries: a line written in pieces stays whole", async () => {
    const { log, chunks } = sink({ flushMs: 10_000 });
    log.write("stdout", "hel");
    log.write("stdout", "lo wor");
    log.write("stdout", "ld\nnext");
    log.write("stdout", " line\n");
    await log.close();
    expect(chunks.map((c) => c.text)).toEqual(["hello world\nnext line\n"]);
  });

  it("publishes 200 ms (flushMs) after the first unsent line without waiting for more", async () => {
    const { log, chunks } = sink({ flushMs: 50 });
    log.write("stdout", "first\n");
    expect(chunks).toHaveLength(0);
    await waitFor("the first line to go out", () => chunks.length === 1);
    expect(chunks.map((c) => c.text)).toEqual(["first\n"]);
    // A line that never ends goes out too, once it has waited as long.
    log.write("stdout", "Password: ");
    await waitFor("the unended line to go out", () => chunks.length === 2);
    expect(chunks.map((c) => c.text)).toEqual(["first\n", "Password: "]);
    await log.close();
  });

  it("publishes at 16 KiB at once, and splits a line longer than a chunk", async () => {
    const { log, chunks } = sink({ flushMs: 60_000 });
    const line = `${"x".repeat(99)}\n`;
    for (let i = 0; i < 200; i++) log.write("stdout", line);
    // 16 KiB were reached: published before any timer could fire.
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    expect(chunks[0]!.text.length).toBeLessThanOrEqual(16 * 1024);
    expect(chunks[0]!.text.endsWith("\n")).toBe(true);

    const long = "y".repeat(40_000);
    log.write("stdout", `${long}\n`);
    await log.close();
    expect(text(chunks)).toBe(line.repeat(200) + long + "\n");
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(LIMITS.logChunkLength);
    expect(chunks.map((c) => c.sequence)).toEqual(chunks.map((_, i) => i + 1));
  });

  it("keeps chunks of multi-byte and control characters within the message size", async () => {
    const { log, chunks } = sink({ flushMs: 60_000 });
    log.write("stdout", "é😀".repeat(20_000) + "\n");
    log.write("stderr", "\u0001\u0002\u001b[31m".repeat(10_000) + "\n");
    await log.close();
    expect(text(chunks, "stdout")).toBe("é😀".repeat(20_000) + "\n");
    expect(text(chunks, "stderr")).toBe("\u0001\u0002\u001b[31m".repeat(10_000) + "\n");
    // No surrogate pair was cut in two.
    for (const chunk of chunks) expect(chunk.text).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  });

  it("decodes UTF-8 per stream, keeping characters split across reads and replacing bad bytes", async () => {
    const { log, chunks } = sink();
    const bytes = Buffer.from("grüße 😀\n", "utf8");
    // Split inside "ü" and inside the emoji, with stderr interleaved.
    log.write("stdout", bytes.subarray(0, 3));
    log.write("stderr", Buffer.from([0xe2, 0x82]));
    log.write("stdout", bytes.subarray(3, 9));
    log.write("stderr", Buffer.from([0xac, 0x0a]));
    log.write("stdout", bytes.subarray(9));
    log.write("stdout", Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a]));
    await log.close();
    expect(text(chunks, "stdout")).toBe("grüße 😀\na\uFFFD\uFFFDb\n");
    expect(text(chunks, "stderr")).toBe("€\n");
  });

  it("stops at the cap and ends with one system chunk saying how much was dropped", async () => {
    const { log, chunks } = sink({ capBytes: 1000, flushMs: 60_000 });
    const line = `${"z".repeat(99)}\n`; // 100 bytes
    for (let i = 0; i < 25; i++) log.write("stdout", line);
    log.system("Job succeeded");
    const last = await log.close();
    const kept = chunks.filter((c) => c.stream === "stdout");
    expect(text(kept)).toBe(line.repeat(10));
    expect(chunks.at(-1)).toMatchObject({
      stream: "system",
      text: `log truncated: ${15 * 100 + "Job succeeded\n".length} bytes dropped\n`,
      sequence: last,
    });
    expect(chunks.filter((c) => c.stream === "system")).toHaveLength(1);
    log.write("stdout", "after close\n");
    await log.close();
    expect(chunks.at(-1)!.sequence).toBe(last);
  });

  it("retries a chunk that was not stored with the same sequence, and keeps the order", async () => {
    const attempts: number[] = [];
    const stored: LogChunkMessage[] = [];
    let failures = 2;
    const { log } = sink({
      flushMs: 5,
      publish: async (chunk) => {
        attempts.push(chunk.sequence);
        if (chunk.sequence === 2 && failures-- > 0) throw new Error("no responders");
        stored.push(chunk);
      },
    });
    log.write("stdout", "1\n");
    await waitFor("the first chunk to be stored", () => stored.length === 1);
    log.write("stderr", "2\n");
    log.write("stdout", "3\n");
    expect(await log.close()).toBe(3);
    expect(attempts).toEqual([1, 2, 2, 2, 3]);
    expect(stored.map((c) => [c.sequence, c.text])).toEqual([
      [1, "1\n"],
      [2, "2\n"],
      [3, "3\n"],
    ]);
    expect(log.lastPublished).toBe(3);
  });

  it("gives up unstored chunks when abandoned, so a leaving agent is not held", async () => {
    let attempts = 0;
    const { log } = sink({
      publish: async () => {
        attempts += 1;
        throw new Error("no responders");
      },
    });
    log.write("stdout", "never stored\n");
    const closed = log.close();
    await waitFor("the close to be retrying", () => attempts >= 2);
    log.abandon();
    await closed;
    expect(log.lastPublished).toBe(0);
  });
});
