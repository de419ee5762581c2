/** A job's secret values never leave the agent in its log: masked before chunks are cut. */
import { LIMITS, type LogChunkMessage } from "@sluice/protocol";
import { JobLog } from "../src/logs/log-sink";
import { SecretMasker } from "../src/logs/secret-mask";

const SECRET = "hunter2-correct-horse";

function sink() {
  const chunks: LogChunkMessage[] = [];
  const log = new JobLog({
    jobId: "job-1",
    attempt: 1,
    flushMs: 10,
    retryDelayMs: 5,
    publish: async (chunk) => {
      chunks.push(chunk);
    },
  });
  return { log, chunks };
}

const all = (chunks: LogChunkMessage[]) => chunks.map((c) => c.text).join("");

describe("SecretMasker", () => {
  it("masks every occurrence, the longest value first, and each line of a multi-line value", () => {
    const masker = new SecretMasker(["abcd", "xxabcdyy", "line-one\nline-two", "ab"]);
    expect(masker.mask("1 abcd 2 xxabcdyy 3 line-one 4 line-two ab")).toBe("1 **** 2 **** 3 **** 4 **** ab");
  });

  it("holds back only an end that could begin a value", () => {
    const masker = new SecretMasker([SECRET]);
    expect(masker.heldLength("token hunter")).toBe("hunter".length);
    expect(masker.heldLength("token hunted")).toBe(0);
    const stream = masker.stream();
    expect(stream.push("a hun")).toBe("a ");
    expect(stream.push("ter2-correct")).toBe("");
    expect(stream.push("-horse and more\n")).toBe("**** and more\n");
    expect(stream.push("ends with hunter2")).toBe("ends with ");
    expect(stream.end()).toBe("****");
  });
});

describe("JobLog with secrets", () => {
  it("hides a value written in one piece, on every stream and in system lines", async () => {
    const { log, chunks } = sink();
    log.maskSecrets([SECRET]);
    log.write("stdout", `export TOKEN=${SECRET}\n`);
    log.write("stderr", Buffer.from(`+ curl -H "Authorization: ${SECRET}"\n`));
    log.system(`calling with ${SECRET}`);
    await log.close();
    expect(all(chunks)).not.toContain(SECRET);
    expect(chunks.map((c) => [c.stream, c.text])).toEqual([
      ["stdout", "export TOKEN=****\n"],
      ["stderr", '+ curl -H "Authorization: ****"\n'],
      ["system", "calling with ****\n"],
    ]);
  });

  it("hides a value split across writes, bytes split inside a character, and across flushes", async () => {
    // The clock is the test's: the pause below is past every flush timer, however busy the machine.
    jest.useFakeTimers();
    try {
      const { log, chunks } = sink();
      const secret = "pä$$wörd-ünïcode";
      log.maskSecrets([secret]);
      const bytes = Buffer.from(`before ${secret} after\n`);
      // One byte at a time: every boundary, including inside multi-byte characters.
      for (const byte of bytes) log.write("stdout", Uint8Array.of(byte));
      // Half a value, then a pause longer than the flush delay: the half must not go out.
      log.write("stdout", `second ${secret.slice(0, 5)}`);
      await jest.advanceTimersByTimeAsync(60);
      expect(all(chunks)).toBe("before **** after\nsecond ");
      log.write("stdout", `${secret.slice(5)} done\n`);
      await log.close();
      expect(all(chunks)).toBe("before **** after\nsecond **** done\n");
      expect(chunks.length).toBeGreaterThanOrEqual(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it("hides a value that straddles the cut of an over-long line", async () => {
    const { log, chunks } = sink();
    log.maskSecrets([SECRET]);
    const filler = "x".repeat(LIMITS.logChunkLength - 5);
    log.write("stdout", `${filler}${SECRET}${filler}\n`);
    await log.close();
    expect(all(chunks)).not.toContain(SECRET);
    expect(all(chunks)).not.toContain(SECRET.slice(0, 5));
    expect(all(chunks)).toBe(`${filler}****${filler}\n`);
  });

  it("masks the start of a value left at the end of the stream, and keeps short harmless tails", async () => {
    const { log, chunks } = sink();
    log.maskSecrets([SECRET]);
    log.write("stdout", "cut short: hunter2-cor");
    log.write("stderr", "just hu");
    await log.close();
    expect(chunks.map((c) => [c.stream, c.text])).toEqual([
      ["stdout", "cut short: ****"],
      ["stderr", "just hu"],
    ]);
  });

  it("changes nothing without secrets, and ignores values shorter than 4 characters", async () => {
    const { log, chunks } = sink();
    log.maskSecrets(["abc", ""]);
    log.write("stdout", "abc abc\n");
    await log.close();
    expect(all(chunks)).toBe("abc abc\n");
  });
});
