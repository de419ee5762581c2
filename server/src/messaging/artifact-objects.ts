/**
 * The artifacts bucket's objects, written and read in the NATS object store's format (ADR-20)
 * without nats.js's writer and reader, for the job artifact routes (http/job-artifacts.ts): agents
 * have no access to the bucket and move their artifacts through the server (PROTOCOL.md 9.3).
 *
 * Writes publish chunks of up to 1 MiB with several publishes in flight (nats.js's writer awaits
 * each one), reads take chunks with several direct gets in flight (nats.js's reader takes one
 * consumer's deliveries one at a time); both stream, neither holds an artifact in memory, and one
 * SHA-256 is computed over the bytes stored. Any object store client reads what this writes, and
 * this reads what any client wrote (an object that is a link is read through nats.js's reader).
 */
import { createHash } from "node:crypto";
import type { JetStreamManager, PubAck } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { headers, nuid, type NatsConnection } from "@nats-io/transport-node";

/** Largest chunk written (the server's max_payload when smaller). */
export const CHUNK_BYTES = 1024 * 1024;
/** Chunk publishes awaiting their acknowledgement at once. */
const PUBLISH_WINDOW = 8;
/** Direct gets of chunks in flight during a read. */
const GET_WINDOW = 8;

/** The object store's metadata record (ADR-20), as stored on `$O.<bucket>.M.<name>`. */
interface ObjectMeta {
  name?: string;
  description?: string;
  bucket?: string;
  nuid?: string;
  size?: number;
  chunks?: number;
  mtime?: string;
  digest?: string;
  deleted?: boolean;
  options?: { link?: unknown; max_chunk_size?: number };
}

/** An object being read: its recorded size and SHA-256 (hex), and its bytes in order. */
export interface StoredObject {
  size: number;
  sha256: string;
  chunks: AsyncIterable<Uint8Array>;
}

/** The object's data is not all in the stream (its metadata counts more chunks than there are). */
export class CorruptObject extends Error {
  override readonly name = "CorruptObject";
}

/** base64url with padding, as ADR-20 encodes object names in subjects and digests. */
function base64UrlPadded(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** nats.js records digests as "SHA-256=<base64url>"; the protocol speaks lowercase hex. */
function digestHex(digest: string | undefined): string {
  const match = /^SHA-256=(.+)$/i.exec(digest ?? "");
  return match ? Buffer.from(match[1]!, "base64url").toString("hex") : "";
}

/** Subjects and stream of `key` in `bucket` (ADR-20, as nats.js names them). */
function objectNames(bucket: string, key: string) {
  return {
    stream: `OBJ_${bucket}`,
    meta: `$O.${bucket}.M.${base64UrlPadded(Buffer.from(key))}`,
    chunks: (id: string) => `$O.${bucket}.C.${id}`,
  };
}

type GetQuery = { last_by_subj: string } | { seq: number; next_by_subj: string };

/**
 * A direct get, answered by any of the stream's replicas. A replica behind its leader (a follower
 * one write behind the quorum, or a node back from a crash) answers "none" for what it has not
 * stored yet, so a miss is asked again of the leader (STREAM.MSG.GET), which has every
 * acknowledged write: no read misses what was stored before it.
 */
async function getMessage(jsm: JetStreamManager, stream: string, query: GetQuery) {
  const direct = await jsm.direct.getMessage(stream, query);
  if (direct !== null) return direct;
  // nats-server 2.9's STREAM.MSG.GET takes next_by_subj; nats.js types it for direct gets only.
  return jsm.streams.getMessage(stream, query as { last_by_subj: string });
}

/** The metadata record on `subject`, or null when there is none. */
async function readMeta(jsm: JetStreamManager, stream: string, subject: string): Promise<ObjectMeta | null> {
  const message = await getMessage(jsm, stream, { last_by_subj: subject });
  return message === null ? null : message.json<ObjectMeta>();
}

/**
 * Writes `source` as the object `key`: chunks of up to 1 MiB on `$O.<bucket>.C.<nuid>` with up to
 * PUBLISH_WINDOW publishes in flight (one connection keeps them in order; the acknowledgements'
 * sequences prove it), then the metadata record (size, chunk count, SHA-256) as the rollup of
 * `$O.<bucket>.M.<name>`, which makes the object visible; the chunks of an object it replaces are
 * purged after. On any failure (`source` throwing included) the new chunks are purged and nothing
 * is visible.
 */
export async function putObject(
  nc: NatsConnection,
  jsm: JetStreamManager,
  bucket: string,
  key: string,
  source: AsyncIterable<Uint8Array>,
): Promise<{ size: number; sha256: string }> {
  const js = jsm.jetstream();
  const names = objectNames(bucket, key);
  const id = nuid.next();
  const chunkSubject = names.chunks(id);
  const chunkBytes = Math.min(CHUNK_BYTES, nc.info?.max_payload ?? CHUNK_BYTES);
  // The object this one replaces, if any (read while writing; its chunks are purged after).
  const previous = readMeta(jsm, names.stream, names.meta).catch(() => null);

  const hash = createHash("sha256");
  let digest: Buffer;
  const inFlight: Promise<PubAck>[] = [];
  let lastSequence = 0;
  let size = 0;
  let chunks = 0;
  const settleOldest = async () => {
    const ack = await inFlight.shift()!;
    if (ack.seq <= lastSequence) throw new Error("the object store stored chunks out of order");
    lastSequence = ack.seq;
  };
  const publish = async (payload: Uint8Array) => {
    hash.update(payload);
    size += payload.length;
    chunks += 1;
    const ack = js.publish(chunkSubject, payload);
    // Awaited in order below; this only keeps an early failure from counting as unhandled.
    ack.catch(() => undefined);
    inFlight.push(ack);
    if (inFlight.length >= PUBLISH_WINDOW) await settleOldest();
  };

  try {
    // Pieces are published as they come when they fit, several small ones together: chunks need
    // not be of one size (a reader concatenates them).
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    const flush = async () => {
      if (heldBytes === 0) return;
      const payload = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
      held = [];
      heldBytes = 0;
      await publish(payload);
    };
    for await (const chunk of source) {
      let piece = chunk;
      while (piece.length > 0) {
        if (heldBytes + piece.length > chunkBytes) await flush();
        const take = Math.min(piece.length, chunkBytes);
        held.push(piece.subarray(0, take));
        heldBytes += take;
        piece = piece.subarray(take);
      }
    }
    await flush();
    while (inFlight.length > 0) await settleOldest();

    digest = hash.digest();
    const info: ObjectMeta = {
      name: key,
      description: "",
      options: { max_chunk_size: chunkBytes },
      bucket,
      nuid: id,
      size,
      chunks,
      mtime: new Date().toISOString(),
      digest: `SHA-256=${base64UrlPadded(digest)}`,
      deleted: false,
    };
    const rollup = headers();
    rollup.set("Nats-Rollup", "sub");
    await js.publish(names.meta, JSON.stringify(info), { headers: rollup });
  } catch (error) {
    await Promise.allSettled(inFlight);
    await jsm.streams.purge(names.stream, { filter: chunkSubject }).catch(() => undefined);
    throw error;
  }
  const old = await previous;
  if (typeof old?.nuid === "string" && old.nuid !== id) {
    // As nats.js does: the new object is live; a failed cleanup only leaves unreachable chunks.
    await jsm.streams.purge(names.stream, { filter: names.chunks(old.nuid) }).catch(() => undefined);
  }
  return { size, sha256: digest.toString("hex") };
}

/**
 * The object `key`, or null when there is none (or it was deleted). Its chunks are read with
 * direct gets as they are consumed; a link is read through nats.js's reader. Throws while NATS
 * cannot answer.
 */
export async function openObject(
  nc: NatsConnection,
  jsm: JetStreamManager,
  bucket: string,
  key: string,
): Promise<StoredObject | null> {
  const names = objectNames(bucket, key);
  const meta = await readMeta(jsm, names.stream, names.meta);
  if (meta === null || meta.deleted) return null;
  if (meta.options?.link || typeof meta.nuid !== "string" || typeof meta.size !== "number") {
    const object = await (await new Objm(nc).open(bucket)).get(key);
    if (object === null) return null;
    return { size: object.info.size, sha256: digestHex(object.info.digest), chunks: readerChunks(object) };
  }
  return {
    size: meta.size,
    sha256: digestHex(meta.digest),
    chunks: chunksOf(jsm, names.stream, names.chunks(meta.nuid), meta.chunks ?? 0),
  };
}

/** The chunks of nats.js's reader, then its error (a digest that does not match) if any. */
async function* readerChunks(object: {
  data: ReadableStream<Uint8Array>;
  error: Promise<Error | null>;
}): AsyncGenerator<Uint8Array> {
  const reader = object.data.getReader();
  let ended = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      yield next.value;
    }
    ended = true;
    const error = await object.error;
    if (error) throw error;
  } finally {
    if (!ended) await reader.cancel().catch(() => undefined);
  }
}

/**
 * The object's `count` chunks in order, read with direct gets, GET_WINDOW of them in flight. A
 * direct get of `{ seq: r, next_by_subj }` answers the first chunk at or after sequence r, so the
 * gets for r, r + 1, … answer, once repeats are dropped, the next chunks in order and none
 * skipped, however other objects' messages interleave with them (a writer's chunks are usually
 * consecutive: then every get brings a new one). Ends with CorruptObject when the stream holds
 * fewer chunks than the metadata counts.
 */
async function* chunksOf(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  count: number,
): AsyncGenerator<Uint8Array> {
  const get = (seq: number) => {
    const answer = getMessage(jsm, stream, { seq, next_by_subj: subject });
    answer.catch(() => undefined); // awaited in order below
    return answer;
  };
  const missing = (received: number) =>
    new CorruptObject(`the object store holds ${received} of the object's ${count} chunks`);
  if (count === 0) return;
  const first = await get(1);
  if (first === null) throw missing(0);
  yield first.data;
  let received = 1;
  let last = first.seq;
  let next = last + 1;
  const pending: ReturnType<typeof get>[] = [];
  while (received < count) {
    // Never below a chunk already received, nor beyond where the remaining chunks at least reach.
    next = Math.max(next, last + 1);
    while (pending.length < GET_WINDOW && next <= last + (count - received)) pending.push(get(next++));
    const answer = pending.shift();
    if (answer === undefined) throw missing(received);
    const message = await answer;
    // Nothing at or after a sequence where the remaining chunks would have to be.
    if (message === null) throw missing(received);
    if (message.seq <= last) continue;
    yield message.data;
    received += 1;
    last = message.seq;
  }
}
