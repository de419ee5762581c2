import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { Objm, setSha256Backend, type ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { createArtifactStore } from "@sluice/agent/dist/src/artifacts";
import type { ActionTypeId, JobMessage, StoredArtifact } from "@sluice/protocol";
import { log, tempDir } from "./env";
import { GraphQLHttpClient } from "./gql";
import { LeaseHolder } from "./lease-holder";
import { nowMs, summarize, type Summary } from "./stats";

const POOL = "bench-artifacts";
const GIT: ActionTypeId = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };
const SHELL: ActionTypeId = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" };

/**
 * Source (output Src) → Produce (Src in, Payload out) → Consume (Payload in), every action on the
 * bench's pool: the lease holder takes each job, and the artifacts move through the server's job
 * artifact routes as an agent moves them (the server checks the lease of each request).
 */
function benchPipeline(name: string) {
  const action = (actionName: string, type: ActionTypeId, inputs: string[], outputs: string[]) => ({
    name: actionName,
    actionTypeId: type,
    region: POOL,
    configuration: type === GIT ? { Repository: "file:///bench/none", Branch: "main" } : { Commands: "true" },
    inputArtifacts: inputs.map((n) => ({ name: n })),
    outputArtifacts: outputs.map((n) => ({ name: n })),
  });
  return {
    name,
    stages: [
      { name: "Source", actions: [action("Checkout", GIT, [], ["Src"])] },
      { name: "Produce", actions: [action("Produce", SHELL, ["Src"], ["Payload"])] },
      { name: "Consume", actions: [action("Consume", SHELL, ["Payload"], [])] },
    ],
  };
}

/** MB is 10^6 bytes throughout. */
const MB = 1_000_000;
const CHUNK = 128 * 1024;

export interface ArtifactFigures {
  sizeMB: number;
  repeats: number;
  /** Per kind of data: MB/s (median of the repeats) of each step, counted in input bytes. */
  random: ArtifactRates;
  compressible: ArtifactRates;
  /** The random data again with the store's `compressionLevel` 1 and 0 (gzip framing, no compression). */
  randomLevel1: ArtifactRates;
  randomLevel0: ArtifactRates;
  /** What a no-op action's input costs: upload, and download + verify + unpack, of a 5-byte file, in ms. */
  tinyUploadMs: Summary;
  tinyDownloadMs: Summary;
  /** The raw object store, without tar or gzip, on the random data. */
  rawNative: { putMBps: number; getMBps: number };
  rawPureJsSha: { putMBps: number; getMBps: number };
  /** CPU floors in this process: gzip level 6 and SHA-256 (node:crypto) of the same bytes. */
  gzipMBps: { random: number; compressible: number };
  sha256NativeMBps: number;
}

export interface ArtifactRates {
  uploadMBps: number;
  downloadMBps: number;
  roundTripMBps: number;
  archiveBytes: number;
}

/** Text that gzip shrinks about as much as a build log or a JSON bundle (about 4–6 ×). */
function compressibleBytes(size: number): Buffer {
  const words = [
    "build",
    "step",
    "ok",
    "warning",
    "src/index.ts",
    "compiled",
    "ms",
    "module",
    "cache",
    "hit",
  ];
  const parts: string[] = [];
  let length = 0;
  let i = 0;
  while (length < size) {
    const line = `${String(i).padStart(8, "0")} ${words[i % 10]} ${words[(i * 7) % 10]} ${crypto.randomBytes(6).toString("hex")} ${i % 977}\n`;
    parts.push(line);
    length += line.length;
    i++;
  }
  return Buffer.from(parts.join("")).subarray(0, size);
}

function streamOf(data: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) return controller.close();
      controller.enqueue(data.subarray(offset, offset + CHUNK));
      offset += CHUNK;
    },
  });
}

async function rawRoundTrip(
  os: ObjectStore,
  data: Buffer,
  name: string,
): Promise<{ put: number; get: number }> {
  const t0 = nowMs();
  await os.put({ name }, streamOf(data));
  const t1 = nowMs();
  const result = await os.get(name);
  if (!result) throw new Error(`object ${name} missing`);
  let got = 0;
  const reader = result.data.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    got += value.length;
  }
  if (!(await result.error) && got !== data.length) throw new Error(`read ${got} of ${data.length} bytes`);
  const t2 = nowMs();
  await os.delete(name);
  return { put: t1 - t0, get: t2 - t1 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rate = (bytes: number, ms: number) => Math.round((bytes / MB / (ms / 1000)) * 10) / 10;

/**
 * 100 MB through the agent's artifact store (tar + gzip + SHA-256 + object store, and back with
 * verification and unpacking), on random and on compressible data, and the raw object store.
 */
export async function measureArtifacts(
  server: { url: string; token: string; natsPrefix: string },
  nc: NatsConnection,
  bucket: string,
  sizeMB: number,
  repeats: number,
): Promise<ArtifactFigures> {
  const size = sizeMB * MB;
  const os = await new Objm(nc).open(bucket);
  const scratch = tempDir();
  const data = { random: crypto.randomBytes(size), compressible: compressibleBytes(size) };
  const gql = new GraphQLHttpClient(server.url, server.token);
  const holder = await LeaseHolder.start(gql, server.natsPrefix, POOL, [GIT, SHELL]);
  const serverUrl = server.url.replace(/\/graphql$/, "");
  const pipelineName = "artifact-bench";
  await gql.data(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
    input: benchPipeline(pipelineName),
  });
  const tiny = path.join(scratch, "tiny");
  fs.mkdirSync(tiny);
  fs.writeFileSync(path.join(tiny, "noop"), "noop\n");
  /**
   * One execution: Checkout stores `tiny` as Src; Produce downloads Src and runs `produce` (its
   * uploads of Payload, the last one reported); Consume runs `consume` (its downloads of Payload).
   */
  const execution = async (
    store: ReturnType<typeof createArtifactStore>,
    produce: (job: JobMessage) => Promise<StoredArtifact>,
    consume: (job: JobMessage, payload: StoredArtifact) => Promise<void>,
  ): Promise<{ tinyUpMs: number; tinyDownMs: number }> => {
    const { releaseChange } = await gql.data<{ releaseChange: { id: string } }>(
      `mutation ($name: String!) { releaseChange(pipelineName: $name) { id } }`,
      { name: pipelineName },
    );
    const checkout = await holder.next(releaseChange.id, "Checkout");
    const t0 = nowMs();
    const src = await store.upload("Src", { root: tiny }, checkout);
    const tinyUpMs = nowMs() - t0;
    await holder.succeed(checkout, [src]);
    const producer = await holder.next(releaseChange.id, "Produce");
    const t1 = nowMs();
    const into = path.join(scratch, `src-${producer.jobId}`);
    await store.download(producer.inputArtifacts[0]!, into, producer);
    const tinyDownMs = nowMs() - t1;
    fs.rmSync(into, { recursive: true, force: true });
    const payload = await produce(producer);
    await holder.succeed(producer, [payload]);
    const consumer = await holder.next(releaseChange.id, "Consume");
    await consume(consumer, consumer.inputArtifacts[0]!);
    await holder.succeed(consumer);
    return { tinyUpMs, tinyDownMs };
  };
  try {
    setSha256Backend("native");
    const through = async (kind: "random" | "compressible", level?: number): Promise<ArtifactRates> => {
      const store = createArtifactStore({
        serverUrl,
        token: holder.token,
        ...(level === undefined ? {} : { compressionLevel: level }),
      });
      const source = path.join(scratch, `${kind}-src`);
      if (!fs.existsSync(source)) {
        fs.mkdirSync(source);
        fs.writeFileSync(path.join(source, "payload.bin"), data[kind]);
      }
      const ups: number[] = [];
      const downs: number[] = [];
      let archiveBytes = 0;
      await execution(
        store,
        async (job) => {
          // Each upload replaces the attempt's object (as an agent's retry would).
          let stored: StoredArtifact | null = null;
          for (let i = 0; i < repeats; i++) {
            const t0 = nowMs();
            stored = await store.upload("Payload", { root: source }, job);
            ups.push(nowMs() - t0);
          }
          archiveBytes = stored!.size;
          return stored!;
        },
        async (job, payload) => {
          for (let i = 0; i < repeats; i++) {
            const destination = path.join(scratch, `${kind}-out-${i}`);
            const t0 = nowMs();
            await store.download(payload, destination, job);
            downs.push(nowMs() - t0);
            if (fs.statSync(path.join(destination, "payload.bin")).size !== size)
              throw new Error("size mismatch");
            fs.rmSync(destination, { recursive: true, force: true });
          }
        },
      );
      const up = median(ups);
      const down = median(downs);
      const rates = {
        uploadMBps: rate(size, up),
        downloadMBps: rate(size, down),
        roundTripMBps: rate(size, up + down),
        archiveBytes,
      };
      log(
        `dispatch: artifacts ${kind}${level === undefined ? "" : ` level ${level}`}: ${JSON.stringify(rates)}`,
      );
      return rates;
    };
    const random = await through("random");
    const compressible = await through("compressible");
    const randomLevel1 = await through("random", 1);
    const randomLevel0 = await through("random", 0);
    // A no-op action's artifacts: Checkout's upload of a 5-byte file, Produce's download of it
    // (each request checks the job's lease: two SQL statements on the server).
    const store = createArtifactStore({ serverUrl, token: holder.token });
    const tinyUps: number[] = [];
    const tinyDowns: number[] = [];
    for (let i = 0; i < 25; i++) {
      const tinyRun = await execution(
        store,
        (job) => store.upload("Payload", { root: tiny }, job),
        async () => undefined,
      );
      tinyUps.push(tinyRun.tinyUpMs);
      tinyDowns.push(tinyRun.tinyDownMs);
    }
    const raw = async () => {
      const puts: number[] = [];
      const gets: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const r = await rawRoundTrip(os, data.random, `bench-raw-${i}`);
        puts.push(r.put);
        gets.push(r.get);
      }
      return { putMBps: rate(size, median(puts)), getMBps: rate(size, median(gets)) };
    };
    const rawNative = await raw();
    setSha256Backend("js");
    const rawPureJsSha = await raw();
    setSha256Backend("native");
    const timed = (fn: () => void) => {
      const t0 = nowMs();
      fn();
      return nowMs() - t0;
    };
    const gzipMBps = {
      random: rate(
        size,
        timed(() => zlib.gzipSync(data.random)),
      ),
      compressible: rate(
        size,
        timed(() => zlib.gzipSync(data.compressible)),
      ),
    };
    const sha256NativeMBps = rate(
      size,
      timed(() => crypto.createHash("sha256").update(data.random).digest()),
    );
    return {
      sizeMB,
      repeats,
      random,
      compressible,
      randomLevel1,
      randomLevel0,
      tinyUploadMs: summarize(tinyUps.slice(5)),
      tinyDownloadMs: summarize(tinyDowns.slice(5)),
      rawNative,
      rawPureJsSha,
      gzipMBps,
      sha256NativeMBps,
    };
  } finally {
    await holder.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
