/**
 * The log reader's two ways of reading a job's log from `<prefix>_LOGS` give the same lines: through
 * a consumer at the position, and chunk by chunk from the stream's leader (what a read falls back
 * to when a NATS cluster that lost a node cannot place its consumer, and where it goes on when the
 * consumer's copy of the stream ends before the leader's); pages of each start and end where asked.
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
let leaderOnly: LogReader;
let lagging: LogReader;

/**
 * A reader whose consumers see only the first `held` chunks of any log, as a consumer placed on a
 * node that is still catching up after a restart does (its copy of the stream ends early).
 */
class LaggingReader extends LogReader {
  constructor(
    link: NatsLink,
    prefix: string,
    private readonly held: number,
  ) {
    super(link, prefix);
  }
  protected override async addReadConsumer(...args: Parameters<LogReader["addReadConsumer"]>) {
    const info = await super.addReadConsumer(...args);
    return { ...info, num_pending: Math.min(info.num_pending, this.held) };
  }
}

/** A reader whose consumers cannot be created, as when they are placed on a lost node. */
class NoConsumerReader extends LogReader {
  protected override async addReadConsumer(): Promise<never> {
    throw Object.assign(new Error("timeout"), { name: "TimeoutError" });
  }
}

beforeAll(async () => {
  nc = await connectNats();
  await ensureJetStream(nc, prefix);
  link = new NatsLink([NATS_URL], prefix, createLogger("silent"));
  await link.connected();
  reader = new LogReader(link, prefix);
  leaderOnly = new NoConsumerReader(link, prefix);
  lagging = new LaggingReader(link, prefix, 3);
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

const ways = () =>
  [
    ["through a consumer", reader],
    ["chunk by chunk, without a consumer", leaderOnly],
    ["through a consumer whose copy of the stream is behind, the rest from the leader", lagging],
  ] as const;

it.each([10, 150])("a log of %i chunks: every line in order, in pages, both ways", async (chunks) => {
  const { job: j, lines } = await writeLog(chunks);
  for (const [, r] of ways()) {
    const all = await r.read(j.jobId, r.positionAfterLine(j.jobId, 0), 10_000, true);
    expect(all.hasMore).toBe(false);
    expect(all.lines.map((l) => l.text)).toEqual(lines);
    expect(all.lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));

    const page = await r.read(j.jobId, r.positionAfterLine(j.jobId, 5), 7, true);
    expect(page.hasMore).toBe(true);
    expect(page.lines.map((l) => l.sequence)).toEqual([6, 7, 8, 9, 10, 11, 12]);
    expect(page.lines.map((l) => l.text)).toEqual(lines.slice(5, 12));
    // The next page from the position the first one gave.
    const next = await r.read(j.jobId, page.next, 3, true);
    expect(next.lines.map((l) => l.sequence)).toEqual([13, 14, 15]);

    // While the attempt runs, the unfinished last line is not a line yet.
    const running = await r.read(j.jobId, r.positionAfterLine(j.jobId, 0), 10_000, false);
    expect(running.lines.map((l) => l.text)).toEqual(lines.slice(0, -1));
  }
});

it("a job with no log has no lines, both ways", async () => {
  for (const [, r] of ways()) {
    const j = job();
    const page = await r.read(j.jobId, r.positionAfterLine(j.jobId, 0), 100, true);
    expect([page.lines, page.hasMore]).toEqual([[], false]);
  }
});
