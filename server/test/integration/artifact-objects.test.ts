/**
 * The server's reader and writer of the artifacts bucket (messaging/artifact-objects.ts), on the
 * shared NATS: what the job artifact routes stream to and from agents (PROTOCOL.md 9.3).
 */
import { createHash, randomBytes } from "node:crypto";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { artifactsBucketConfig } from "@sluice/protocol";
import { CHUNK_BYTES, CorruptObject, openObject, putObject } from "../../src/messaging/artifact-objects";
import { connectNats } from "../support/nats";

const prefix = `artobj_${randomBytes(4).toString("hex")}`;
const { bucket, ...settings } = artifactsBucketConfig(prefix);
const stream = `OBJ_${bucket}`;
let nc: NatsConnection;
let jsm: JetStreamManager;
let store: ObjectStore;

beforeAll(async () => {
  nc = await connectNats();
  jsm = await jetstreamManager(nc);
  store = await new Objm(nc).create(bucket, settings);
});
afterAll(async () => {
  await store?.destroy();
  await nc?.close();
});

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** `data` in pieces of `piece` bytes, as a request body arrives. */
async function* pieces(data: Buffer, piece = 64 * 1024): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece);
}

async function readAll(key: string): Promise<Buffer> {
  const object = await openObject(nc, jsm, bucket, key);
  if (!object) throw new Error(`no object ${key}`);
  const parts: Uint8Array[] = [];
  for await (const chunk of object.chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

const metaSubject = (key: string) =>
  `$O.${bucket}.M.${Buffer.from(key).toString("base64").replace(/\+/g, "-").replace(/\//g, "_")}`;

/**
 * Writes the object `key` again with its chunks, under the same metadata (size, digest), with
 * `foreign(index)` messages of another object after each chunk: as uploads of several jobs at
 * once leave them in the bucket's stream.
 */
async function interleave(key: string, foreign: (index: number) => number): Promise<number[]> {
  const meta = (await jsm.direct.getMessage(stream, { last_by_subj: metaSubject(key) }))!.json<{
    nuid: string;
    chunks: number;
  }>();
  const chunks: Buffer[] = [];
  let seq = 1;
  while (chunks.length < meta.chunks) {
    const m = (await jsm.direct.getMessage(stream, { seq, next_by_subj: `$O.${bucket}.C.${meta.nuid}` }))!;
    chunks.push(Buffer.from(m.data));
    seq = m.seq + 1;
  }
  const js = jsm.jetstream();
  const nuid = `rewritten${randomBytes(6).toString("hex")}`;
  const other = `$O.${bucket}.C.other${randomBytes(6).toString("hex")}`;
  const sequences: number[] = [];
  for (const [index, chunk] of chunks.entries()) {
    sequences.push((await js.publish(`$O.${bucket}.C.${nuid}`, chunk)).seq);
    for (let i = 0; i < foreign(index); i++) await js.publish(other, randomBytes(1024));
  }
  const rollup = headers();
  rollup.set("Nats-Rollup", "sub");
  await js.publish(metaSubject(key), JSON.stringify({ ...meta, nuid }), { headers: rollup });
  return sequences;
}

it("writes what nats.js's object store reads, and reads it back, size and SHA-256 alike", async () => {
  const data = randomBytes(3 * CHUNK_BYTES + 12_345);
  const stored = await putObject(nc, jsm, bucket, "e/j/1/Round", pieces(data));
  expect(stored).toEqual({ size: data.length, sha256: sha256(data) });
  const info = (await store.info("e/j/1/Round"))!;
  expect([info.size, info.chunks]).toEqual([data.length, 4]);
  expect(sha256((await store.getBlob("e/j/1/Round"))!)).toBe(sha256(data));
  const object = (await openObject(nc, jsm, bucket, "e/j/1/Round"))!;
  expect([object.size, object.sha256]).toEqual([data.length, sha256(data)]);
  expect(sha256(await readAll("e/j/1/Round"))).toBe(sha256(data));
  // An empty object too.
  await putObject(nc, jsm, bucket, "e/j/1/Empty", pieces(Buffer.alloc(0)));
  expect((await readAll("e/j/1/Empty")).length).toBe(0);
});

it("replaces an object of the same name and leaves none of its chunks", async () => {
  await putObject(nc, jsm, bucket, "e/j/1/Again", pieces(randomBytes(2 * CHUNK_BYTES)));
  const before = (await store.info("e/j/1/Again"))!.nuid;
  const data = randomBytes(1000);
  await putObject(nc, jsm, bucket, "e/j/1/Again", pieces(data));
  expect(await readAll("e/j/1/Again")).toEqual(data);
  const left = await jsm.direct.getMessage(stream, { seq: 1, next_by_subj: `$O.${bucket}.C.${before}` });
  expect(left).toBeNull();
});

it("stores nothing when the bytes stop with an error half way (an agent gone mid-upload)", async () => {
  async function* broken(): AsyncGenerator<Buffer> {
    yield randomBytes(2 * CHUNK_BYTES);
    throw new Error("aborted");
  }
  await expect(putObject(nc, jsm, bucket, "e/j/1/Broken", broken())).rejects.toThrow("aborted");
  expect(await openObject(nc, jsm, bucket, "e/j/1/Broken")).toBeNull();
});

it("reads objects nats.js wrote (its 128 KiB chunks), and none for a name never written", async () => {
  for (const size of [20, 2 * 1024 * 1024 + 3]) {
    const data = randomBytes(size);
    const info = await store.putBlob({ name: `old/${size}` }, data);
    expect(info.chunks).toBe(Math.ceil(size / (128 * 1024)));
    expect(await readAll(`old/${size}`)).toEqual(data);
  }
  expect(await openObject(nc, jsm, bucket, "never/written")).toBeNull();
});

it("reassembles chunks in order while other objects' chunks interleave", async () => {
  const data = randomBytes(11 * CHUNK_BYTES + 777);
  await putObject(nc, jsm, bucket, "e/j/1/Mixed", pieces(data));
  const sequences = await interleave("e/j/1/Mixed", (index) => 1 + (index % 3));
  // More chunks than direct gets in flight (8), and not one after the other.
  expect(sequences.length).toBeGreaterThan(8);
  expect(sequences[sequences.length - 1]! - sequences[0]! + 1).toBeGreaterThan(2 * sequences.length);
  expect(sha256(await readAll("e/j/1/Mixed"))).toBe(sha256(data));
});

it("ends with CorruptObject when a chunk is gone", async () => {
  await putObject(nc, jsm, bucket, "e/j/1/Holed", pieces(randomBytes(4 * CHUNK_BYTES)));
  const { nuid } = (await store.info("e/j/1/Holed"))!;
  const first = (await jsm.direct.getMessage(stream, { seq: 1, next_by_subj: `$O.${bucket}.C.${nuid}` }))!;
  const second = (await jsm.direct.getMessage(stream, {
    seq: first.seq + 1,
    next_by_subj: `$O.${bucket}.C.${nuid}`,
  }))!;
  await jsm.streams.deleteMessage(stream, second.seq);
  await expect(readAll("e/j/1/Holed")).rejects.toBeInstanceOf(CorruptObject);
});
