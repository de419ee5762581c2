import crypto from "node:crypto";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { encode, msgIds, natsNames } from "@sluice/protocol";
import { createLogger } from "@sluice/server/dist/src/logger";
import { ensureJetStream } from "@sluice/server/dist/src/messaging/jetstream-setup";
import {
  encodeLogCursor,
  LOG_START,
  LogReader,
  positionAfterLine,
  type LogPosition,
} from "@sluice/server/dist/src/messaging/log-reader";
import { NatsLink } from "@sluice/server/dist/src/messaging/nats";
import { log, machineFacts, NATS_URL, natsPrefix } from "./env";
import { deleteStreams } from "./nats";
import { OthersCpu, waitForQuiet } from "./quiet";
import type { BenchResult } from "./results";
import { summarize } from "./stats";

/**
 * Reading a page deep into a long log (server/src/messaging/log-reader.ts): a 1,000,000-line log
 * in `<prefix>_LOGS`, published the way an agent publishes it (16,384-character chunks cut
 * anywhere, so lines span chunks; stdout with some stderr), with other logs' chunks in between in
 * the same stream. `LogReader.read` is what the `actionLog` query calls; it runs in the bench
 * process against the local NATS.
 */
export interface LogsOptions {
  lines: number;
  pageSize: number;
  /** Timed reads of the last page from its cursor. */
  reads: number;
  /** Chunks of other logs published between two chunks of this one. */
  otherLogs: number;
}

const CHUNK = 16_384;

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

/** Publishes `lines` lines of one attempt as an agent does: a chunk per 16,384 characters of a stream. */
async function publishLog(
  js: JetStreamClient,
  prefix: string,
  jobId: string,
  lines: number,
  others: string[],
): Promise<{ chunks: number; characters: number }> {
  const names = natsNames(prefix);
  const rand = random(42);
  const buffers = { stdout: "", stderr: "" };
  let sequence = 0;
  let characters = 0;
  let inFlight: Promise<unknown>[] = [];
  const send = async (stream: "stdout" | "stderr", text: string) => {
    sequence++;
    const chunk = (id: string, seq: number, t: string, s: "stdout" | "stderr") =>
      js.publish(
        names.subjects.log(id),
        encode("logChunk", {
          jobId: id,
          attempt: 1,
          sequence: seq,
          at: new Date().toISOString(),
          stream: s,
          text: t,
        }),
        { msgID: msgIds.logChunk(id, 1, seq) },
      );
    inFlight.push(chunk(jobId, sequence, text, stream));
    for (const other of others) inFlight.push(chunk(other, sequence, text, "stdout"));
    if (inFlight.length >= 256) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  };
  for (let i = 1; i <= lines; i++) {
    const stream = rand() < 0.9 ? "stdout" : "stderr";
    const line = `${new Date(1_767_225_600_000 + i * 7).toISOString()} ${stream} step ${i}: ${"compiling module ".repeat(1 + Math.floor(rand() * 4))}\n`;
    characters += line.length;
    buffers[stream] += line;
    while (buffers[stream].length >= CHUNK) {
      await send(stream, buffers[stream].slice(0, CHUNK));
      buffers[stream] = buffers[stream].slice(CHUNK);
    }
  }
  for (const stream of ["stdout", "stderr"] as const)
    if (buffers[stream]) await send(stream, buffers[stream]);
  await Promise.all(inFlight);
  return { chunks: sequence, characters };
}

export async function runLogs(options: LogsOptions): Promise<BenchResult> {
  const prefix = natsPrefix();
  const link = new NatsLink([NATS_URL], prefix, createLogger("silent"));
  try {
    await link.connected();
    await ensureJetStream(link.nats!, prefix);
    const reader = new LogReader(link, prefix);
    const jobId = crypto.randomUUID();
    const others = Array.from({ length: options.otherLogs }, () => crypto.randomUUID());
    log(`logs: publishing a ${options.lines.toLocaleString("en-US")}-line log`);
    const published = Date.now();
    const { chunks, characters } = await publishLog(
      jetstream(link.nats!),
      prefix,
      jobId,
      options.lines,
      others,
    );
    const publishS = (Date.now() - published) / 1000;

    // Page through once, keeping every page's cursor, as a client paging with `cursor` does.
    const positions: LogPosition[] = [LOG_START];
    const pagingStarted = Date.now();
    let read = 0;
    for (;;) {
      const page = await reader.read(jobId, positions.at(-1)!, options.pageSize, true);
      read += page.lines.length;
      if (!page.hasMore) break;
      positions.push(page.next);
    }
    const pagingS = (Date.now() - pagingStarted) / 1000;
    if (read !== options.lines) throw new Error(`paged ${read} lines, expected ${options.lines}`);
    const lastPage = positions.length; // 1-based: page 1,000 of 1,000-line pages
    const cursor = positions[lastPage - 1]!;
    log(
      `logs: ${chunks} chunks, ${lastPage} pages of ${options.pageSize}; cursor of the last page ${encodeLogCursor(jobId, cursor)}`,
    );

    const quiet = await waitForQuiet(null);
    const cpu = new OthersCpu(null);
    for (let i = 0; i < 20; i++) await reader.read(jobId, cursor, options.pageSize, true);
    const lastPageMs: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < options.reads; i++) {
      const started = process.hrtime.bigint();
      const page = await reader.read(jobId, cursor, options.pageSize, true);
      lastPageMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (page.lines.length !== options.pageSize || page.lines[0]!.sequence !== cursor.line + 1)
        throw new Error("the last page came back wrong");
    }
    const cpuUsed = process.cpuUsage(cpuBefore);
    const cpuPerReadMs = Math.round(((cpuUsed.user + cpuUsed.system) / 1000 / options.reads) * 100) / 100;
    const rand = random(7);
    const anyPageMs: number[] = [];
    for (let i = 0; i < options.reads; i++) {
      const position = positions[Math.floor(rand() * positions.length)]!;
      const started = process.hrtime.bigint();
      await reader.read(jobId, position, options.pageSize, true);
      anyPageMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    // The same page by line number alone on a server copy that has no position for it: the
    // log is read from its start, as every page was before (a few runs: each reads everything).
    const byNumberMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      await reader.read(jobId, positionAfterLine(cursor.line), options.pageSize, true);
      byNumberMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const used = cpu.read();

    const last = summarize(lastPageMs, 2);
    const any = summarize(anyPageMs, 2);
    const byNumber = summarize(byNumberMs, 0);
    return {
      name: "logs",
      title: "Logs: reading page 1,000 of a 1,000,000-line log",
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: {
        log: `${options.lines} lines (${Math.round(characters / 1e6)} MB; 90 % stdout, 10 % stderr) in ${chunks} chunks of up to ${CHUNK} characters cut anywhere, as an agent publishes them; ${options.otherLogs} other logs' chunks stored between each two of its chunks in the same stream`,
        page: `${options.pageSize} lines; page ${lastPage} is lines ${(cursor.line + 1).toLocaleString("en-US")}–${(cursor.line + options.pageSize).toLocaleString("en-US")}`,
        reads: `${options.reads} timed reads of the last page from its cursor after 20 untimed ones, then ${options.reads} of random pages from theirs; LogReader.read (what actionLog calls) in the bench process, local NATS`,
      },
      figures: [
        { label: `page ${lastPage} from its cursor, p50`, value: last.p50, unit: "ms" },
        { label: `page ${lastPage} from its cursor, p99`, value: last.p99, unit: "ms", goalMax: 20 },
        { label: `page ${lastPage} from its cursor, max`, value: last.max, unit: "ms" },
        {
          label: `page ${lastPage} from its cursor: CPU of the reading process per read (what load does not change)`,
          value: cpuPerReadMs,
          unit: "ms",
        },
        { label: "a random page from its cursor, p50", value: any.p50, unit: "ms" },
        { label: "a random page from its cursor, p99", value: any.p99, unit: "ms" },
        {
          label: `page ${lastPage} by line number alone, read from the start (the old way), median of 3`,
          value: byNumber.p50,
          unit: "ms",
        },
        {
          label: `all ${lastPage} pages one after the other, each from the last one's cursor`,
          value: Math.round(pagingS * 10) / 10,
          unit: "s",
        },
      ],
      notes: [
        "A cursor holds the stream sequence to read from, the count of lines before it and the last line returned (and the sequences of lines left unfinished in a single chunk, fetched by sequence while the consumer is created: here one, the log's last stderr line). A read is one ephemeral consumer created at `opt_start_seq` with the log's subject as filter (its `num_pending` says where the stored log ends), fetches in batches of 8, 16, 32… chunks, and the consumer's deletion (not waited for): 1,000 lines are about 6 chunks here, so one fetch. Nothing before the cursor is read, so the cost does not grow with the page number.",
        "What is left per page is the consumer's creation (a JetStream API request) and the JSON decoding and line splitting of about 80 KB; the GraphQL layer adds the attempt's lookup (one PostgreSQL read) and the masking of secrets, which this figure leaves out.",
        `A page asked for by line number only (\`after\` without \`afterCursor\`) on a server copy that did not serve the page before it reads the log from its start: ${byNumber.p50} ms here for page ${lastPage}. The server remembers the position after each page it served (10,000 of them), so a client paging by line number against one server copy still reads only its page.`,
        `Publishing the log took ${publishS.toFixed(1)} s.`,
        `Idle-machine check: ${quiet.quiet ? `quiet after ${quiet.waitedS} s` : `not quiet after ${quiet.waitedS} s`}; other processes used ${Math.round(used.othersShareOfCore * 100)} % of a core during the run${used.othersShareOfCore > 0.05 ? ", so the tail figures are pessimistic" : ""}.`,
        "A read also asks the stream's leader where the log ends, alongside the consumer's creation (a replica still catching up after a restart could otherwise end a page short): one more JetStream API request per page, sent in parallel with the consumer's creation.",
      ],
      details: {
        cpuPerReadMs,
        lastPageMs: last,
        randomPageMs: any,
        byNumberMs: byNumber,
        chunks,
        pages: lastPage,
        publishS,
        pagingS,
      },
    };
  } finally {
    await link.close();
    await deleteStreams(prefix);
  }
}
