/**
 * The log reader's two ways of reading a job's log from `<prefix>_LOGS` give the same lines: a short
 * log chunk by chunk from the stream's leader (what still works while a NATS cluster has lost a
 * node), a long one through an ordered consumer; pages of either start and end where asked.
 */
import crypto from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JobMessage } from "@sluice/protocol";
import { createLogger } from "../../src/logger";
import { ensureJetStream } from "../../src/messaging/jetstream-setup";
import { LogReader } from "../../src/messaging/log-reader";
import { NatsLink } from "../../src/messaging/nats";
import { writeLogChunk } from "../support/logs";
import { connectNats, deleteStreams, NATS_URL } from "../support/nats";

const prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
let nc: NatsConnection;
let link: NatsLink;
let reader: LogReader;

beforeAll(async () => {
  nc = await connectNats();
  await ensureJetStream(nc, prefix);
  link = new NatsLink([NATS_URL], prefix, createLogger("silent"));
  await link.connected();
  reader = new LogReader(link, prefix);
});

afterAll(async () => {
  await link?.close();
  await nc?.close();
  await deleteStreams(prefix);
});

const job = () => ({ jobId: crypto.randomUUID(), attempt: 1 }) as JobMessage;

/** A log of `chunks` chunks, two lines each, the last line without its newline. */
async function writeLog(chunks: number): Promise<{ job: JobMessage; lines: string[] }> {
  const j = job();
  const lines: string[] = [];
  for (let i = 1; i <= chunks; i++) {
    lines.push(`chunk ${i} a`, `chunk ${i} b`);
    await writeLogChunk(
      nc,
      prefix,
      j,
      i,
      i % 5 === 0 ? "stderr" : "stdout",
      `chunk ${i} a\nchunk ${i} b${i === chunks ? "" : "\n"}`,
    );
  }
  return { job: j, lines };
}

it.each([
  ["a short log, chunk by chunk", 10],
  ["a long log, through an ordered consumer", 150],
])("%s: every line in order, in pages", async (_what, chunks) => {
  const { job: j, lines } = await writeLog(chunks);
  const all = await reader.read(j.jobId, 0, 10_000, true);
  expect(all.hasMore).toBe(false);
  expect(all.lines.map((l) => l.text)).toEqual(lines);
  expect(all.lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));

  const page = await reader.read(j.jobId, 5, 7, true);
  expect(page.hasMore).toBe(true);
  expect(page.lines.map((l) => l.sequence)).toEqual([6, 7, 8, 9, 10, 11, 12]);
  expect(page.lines.map((l) => l.text)).toEqual(lines.slice(5, 12));

  // While the attempt runs, the unfinished last line is not a line yet.
  const running = await reader.read(j.jobId, 0, 10_000, false);
  expect(running.lines.map((l) => l.text)).toEqual(lines.slice(0, -1));
});

it("a job with no log has no lines", async () => {
  expect(await reader.read(job().jobId, 0, 100, true)).toEqual({ lines: [], hasMore: false });
});
