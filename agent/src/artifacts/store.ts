/**
 * The ArtifactStore over a nats.js v3 object store (PROTOCOL.md section 9). Size and SHA-256 are
 * computed over the exact bytes stored, while they stream, and checked on download while the
 * archive unpacks into a staging directory, which reaches the workspace only when they match:
 * the object store's own digest only proves the object is intact, not that it is the one recorded.
 *
 * With direct access to the bucket's stream (`direct`, what the agent uses), objects are written
 * and read in the object store's format (ADR-20) without its reader and writer: chunks of up to
 * 1 MiB with several publishes in flight, and chunks read with several direct gets in flight
 * (nats.js's reader takes one consumer's deliveries one at a time); one SHA-256 each way. Any
 * object store client reads what this writes, and this reads what any client wrote.
 */
import { createHash } from "node:crypto";
import type { JetStreamManager, PubAck } from "@nats-io/jetstream";
import { setSha256Backend, type ObjectStore } from "@nats-io/obj";
import { headers, nuid, type NatsConnection } from "@nats-io/transport-node";
import type { StoredArtifact } from "@sluice/protocol";
import { ArtifactError, type ArtifactStore, type OutputSpec } from "../providers/types";
import {
  ArchiveExtractor,
  chooseCompressionLevel,
  collectEntries,
  createArchiveStream,
  unpackArchive,
} from "./archive";

export const DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024 * 1024 * 1024;

export interface ArtifactStoreOptions {
  /** Largest archive accepted for upload, in bytes (default 5 GiB). */
  maxBytes?: number;
  /**
   * gzip level 0–9 for every upload. Without it each artifact is sampled: compressed at level 1
   * (DEFAULT_COMPRESSION_LEVEL), or stored in gzip's uncompressed blocks (level 0) when the
   * sample shrinks by less than a tenth (archive.ts, chooseCompressionLevel).
   */
  compressionLevel?: number;
  /**
   * Direct access to the bucket's stream: the connection, its JetStream manager and the bucket's
   * name. With it, uploads publish chunks of up to 1 MiB with several in flight, downloads read
   * chunks with several direct gets in flight, and an object of one small chunk (at most
   * SMALL_OBJECT_BYTES) is read with two direct gets and unpacked from memory. Without it, the
   * object store's own writer (1 MiB chunks, one publish at a time) and reader (one consumer).
   */
  direct?: DirectAccess;
}

export interface DirectAccess {
  nc: NatsConnection;
  jsm: JetStreamManager;
  bucket: string;
}

/** Objects up to this size, stored in one chunk, take the one-message download path. */
export const SMALL_OBJECT_BYTES = 128 * 1024;
/** Largest chunk of an upload (the server's max_payload when smaller). */
export const CHUNK_BYTES = 1024 * 1024;
/** Chunk publishes awaiting their acknowledgement at once. */
const PUBLISH_WINDOW = 8;
/** Direct gets of chunks in flight during a download. */
const GET_WINDOW = 8;

let backendChoice: Promise<void> | undefined;

/**
 * nats.js hashes every object it stores and reads; its pure-JS SHA-256 runs at a quarter of the
 * native speed (STACK.md). The native backend loads node:crypto with a dynamic import, which some
 * hosts cannot run (jest's VM without --experimental-vm-modules), so it is probed first and the
 * pure-JS backend kept where the import fails. Only the paths through nats.js's own reader and
 * writer need it.
 */
function chooseSha256Backend(): Promise<void> {
  backendChoice ??= (async () => {
    try {
      // A real dynamic import: TypeScript would turn `import()` into require() in CommonJS output.
      const load = new Function("specifier", "return import(specifier)") as (s: string) => Promise<unknown>;
      await load("node:crypto");
      setSha256Backend("native");
    } catch {
      setSha256Backend("js");
    }
  })();
  return backendChoice;
}

/** nats.js records digests as "SHA-256=<base64url>"; the protocol speaks lowercase hex. */
function digestToHex(digest: string): string {
  const match = /^SHA-256=(.+)$/i.exec(digest);
  return match ? Buffer.from(match[1]!, "base64url").toString("hex") : `(unknown: ${digest})`;
}

/** base64url with padding, as ADR-20 encodes object names in subjects and digests. */
function base64UrlPadded(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && Number.isInteger(value / 1024)) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}

/** Maps an error of the object store (or of NATS under it) to a failure type. */
function storeError(error: unknown, what: string): ArtifactError {
  if (error instanceof ArtifactError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/permission/i.test(message)) {
    return new ArtifactError("PermissionError", `${what}: the object store refused access: ${message}`);
  }
  // The cause travels along: whether it passes with time is runtime/retry.ts's call.
  return new ArtifactError("SystemUnavailable", `${what}: the object store is unavailable: ${message}`, {
    cause: error,
  });
}

function fileSystemError(error: unknown, what: string): ArtifactError {
  if (error instanceof ArtifactError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ArtifactError("SystemUnavailable", `${what}: no space left on the agent: ${message}`);
  }
  if (code === "ENOENT") return new ArtifactError("ConfigurationError", `${what}: ${message}`);
  return new ArtifactError("SystemUnavailable", `${what}: ${message}`);
}

function sizeMismatch(
  what: string,
  artifact: StoredArtifact,
  info: { size: number; digest: string },
): ArtifactError {
  return new ArtifactError(
    "RevisionUnavailable",
    `${what} differs from the recorded one: expected ${artifact.size} bytes with sha256 ${artifact.sha256}, ` +
      `found ${info.size} bytes with sha256 ${digestToHex(info.digest)}`,
  );
}

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

/** Subjects and stream of `key` in `bucket` (ADR-20, as nats.js names them). */
function objectNames(bucket: string, key: string) {
  return {
    stream: `OBJ_${bucket}`,
    meta: `$O.${bucket}.M.${base64UrlPadded(Buffer.from(key))}`,
    chunks: (id: string) => `$O.${bucket}.C.${id}`,
  };
}

/**
 * Writes `source` as the object `key` in the object store's format: chunks of up to 1 MiB on
 * `$O.<bucket>.C.<nuid>` with up to PUBLISH_WINDOW publishes in flight (one connection keeps
 * them in order; the acknowledgements' sequences prove it), then the metadata record (size,
 * chunk count, SHA-256) as the rollup of `$O.<bucket>.M.<name>`, which makes the object visible;
 * the chunks of an object it replaces are purged after. On any failure the new chunks are purged
 * and nothing is visible.
 */
async function putChunked(
  direct: DirectAccess,
  key: string,
  source: AsyncIterable<Buffer>,
): Promise<{ size: number; sha256: string }> {
  const { jsm, bucket, nc } = direct;
  const js = jsm.jetstream();
  const names = objectNames(bucket, key);
  const id = nuid.next();
  const chunkSubject = names.chunks(id);
  const chunkBytes = Math.min(CHUNK_BYTES, nc.info?.max_payload ?? CHUNK_BYTES);
  // The object this one replaces, if any (read while uploading; its chunks are purged after).
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
    // not be of one size (a reader concatenates them), and the archive's blocks are made to fit.
    let held: Buffer[] = [];
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

/** The metadata record on `subject`, or null when there is none. */
async function readMeta(jsm: JetStreamManager, stream: string, subject: string): Promise<ObjectMeta | null> {
  const message = await jsm.direct.getMessage(stream, { last_by_subj: subject });
  return message === null ? null : message.json<ObjectMeta>();
}

/**
 * The download with direct gets. Returns false, having changed nothing, when the object is a
 * link or the metadata's direct get fails (permissions, a stream without direct gets): the caller
 * then reads it through
 * the object store's own reader. An object of one small chunk is read whole and unpacked from
 * memory; a larger one streams into `receive`, its chunks read by `chunksOf`.
 */
async function downloadDirect(
  direct: DirectAccess,
  artifact: StoredArtifact,
  destination: string,
  what: string,
): Promise<boolean> {
  const { jsm, bucket } = direct;
  const names = objectNames(bucket, artifact.objectKey);
  let meta: ObjectMeta | null;
  try {
    meta = await readMeta(jsm, names.stream, names.meta);
  } catch {
    return false;
  }
  if (meta === null || meta.deleted) {
    throw new ArtifactError("RevisionUnavailable", `${what} is missing from the object store`);
  }
  if (meta.options?.link || typeof meta.nuid !== "string" || typeof meta.size !== "number") return false;
  if (meta.size !== artifact.size) {
    throw sizeMismatch(what, artifact, { size: meta.size, digest: meta.digest ?? "" });
  }
  const chunkSubject = names.chunks(meta.nuid);
  const chunks = meta.chunks ?? 0;

  if (artifact.size <= SMALL_OBJECT_BYTES && chunks <= 1) {
    let data: Buffer;
    if (meta.size === 0) {
      data = Buffer.alloc(0);
    } else {
      let message;
      try {
        message = await jsm.direct.getMessage(names.stream, { last_by_subj: chunkSubject });
      } catch (error) {
        throw storeError(error, `${what} could not be downloaded`);
      }
      if (message === null) {
        throw new ArtifactError(
          "RevisionUnavailable",
          `${what} is corrupt: its data is missing from the object store`,
        );
      }
      data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
    }
    const sha256 = createHash("sha256").update(data).digest("hex");
    if (data.length !== artifact.size || sha256 !== artifact.sha256) {
      throw new ArtifactError(
        "RevisionUnavailable",
        `${what} differs from the recorded one: expected ${artifact.size} bytes with sha256 ${artifact.sha256}, ` +
          `found ${data.length} bytes with sha256 ${sha256}`,
      );
    }
    await unpackArchive(data, destination, artifact.name);
    return true;
  }

  await receive(chunksOf(jsm, names.stream, chunkSubject, chunks, what), artifact, destination, what);
  return true;
}

/**
 * The object's `count` chunks in order, read with direct gets, GET_WINDOW of them in flight. A
 * direct get of `{ seq: r, next_by_subj }` answers the first chunk at or after sequence r, so the
 * gets for r, r + 1, … answer, once repeats are dropped, the next chunks in order and none
 * skipped, however other objects' messages interleave with them (a writer's chunks are usually
 * consecutive: then every get brings a new one). Ends with RevisionUnavailable when the stream
 * holds fewer chunks than the metadata counts.
 */
async function* chunksOf(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  count: number,
  what: string,
): AsyncGenerator<Uint8Array> {
  const get = (seq: number) => {
    const answer = jsm.direct.getMessage(stream, { seq, next_by_subj: subject });
    answer.catch(() => undefined); // awaited in order below
    return answer;
  };
  const missing = (received: number) =>
    new ArtifactError(
      "RevisionUnavailable",
      `${what} is corrupt: the object store holds ${received} of its ${count} chunks`,
    );
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

export function createArtifactStore(
  objectStore: ObjectStore,
  options: ArtifactStoreOptions = {},
): ArtifactStore {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;

  return {
    async upload(name: string, objectKey: string, spec: OutputSpec): Promise<StoredArtifact> {
      const what = `artifact ${name}`;
      const list = await collectEntries(name, spec).catch((error: unknown) => {
        throw fileSystemError(error, what);
      });
      const level = options.compressionLevel ?? (await chooseCompressionLevel(spec.root, list.files));
      const archive = createArchiveStream(spec.root, list.paths, level);
      let size = 0;
      // Hashed here on the way to nats.js's writer; putChunked hashes what it publishes itself.
      const hash = options.direct ? null : createHash("sha256");
      // The archive's bytes, counted against the cap as they stream; its errors are the file
      // system's (or the cap's), told apart from the object store's.
      async function* bytes(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of archive) {
            size += chunk.length;
            if (size > maxBytes) {
              throw new ArtifactError(
                "ConfigurationError",
                `${what} is larger than the ${formatBytes(maxBytes)} cap`,
              );
            }
            hash?.update(chunk);
            yield chunk;
          }
        } catch (error) {
          throw fileSystemError(error, `${what} could not be packed`);
        } finally {
          await archive.return(undefined);
        }
      }

      if (options.direct) {
        let put;
        try {
          put = await putChunked(options.direct, objectKey, bytes());
        } catch (error) {
          throw storeError(error, `${what} could not be uploaded`);
        }
        return { name, objectKey, size: put.size, sha256: put.sha256 };
      }

      await chooseSha256Backend();
      let info;
      try {
        info = await objectStore.put(
          { name: objectKey, options: { max_chunk_size: CHUNK_BYTES } },
          webStream(bytes()),
        );
      } catch (error) {
        throw storeError(error, `${what} could not be uploaded`);
      }
      if (info.size !== size) {
        throw new ArtifactError(
          "SystemUnavailable",
          `${what}: the object store recorded ${info.size} bytes, ${size} were sent`,
        );
      }
      return { name, objectKey, size, sha256: hash!.digest("hex") };
    },

    async download(artifact: StoredArtifact, destination: string): Promise<void> {
      const what = `artifact ${artifact.name} (${artifact.objectKey})`;
      if (options.direct && (await downloadDirect(options.direct, artifact, destination, what))) return;
      await chooseSha256Backend();
      let result;
      try {
        result = await objectStore.get(artifact.objectKey);
      } catch (error) {
        throw storeError(error, `${what} could not be downloaded`);
      }
      if (result === null) {
        throw new ArtifactError("RevisionUnavailable", `${what} is missing from the object store`);
      }
      if (result.info.size !== artifact.size) {
        // Not worth downloading; the object store's own digest names what is there instead.
        await result.data.cancel().catch(() => undefined);
        throw sizeMismatch(what, artifact, result.info);
      }
      await receive(readerChunks(result.data), artifact, destination, what);
      // A failure to read after the last byte (the digest is checked by `receive`).
      const streamError = await result.error;
      if (streamError && !isDigestError(streamError)) {
        throw storeError(streamError, `${what} could not be downloaded`);
      }
    },
  };
}

/** nats.js's reader ends with this error when the bytes do not match the object's digest. */
function isDigestError(error: unknown): boolean {
  return /digest/i.test((error as Error | undefined)?.message ?? "");
}

/**
 * The chunks of nats.js's reader. Its digest error ends them quietly: `receive` compares the
 * bytes with the recorded SHA-256 itself and says what differs.
 */
async function* readerChunks(data: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = data.getReader();
  let ended = false;
  try {
    for (;;) {
      let next;
      try {
        next = await reader.read();
      } catch (error) {
        ended = true;
        if (isDigestError(error)) return;
        throw error;
      }
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // Left early (a size beyond the recorded one): stop the reader's consumer.
    if (!ended) await reader.cancel().catch(() => undefined);
  }
}

/** A web ReadableStream over `source` (what the object store's put reads). */
function webStream(source: AsyncGenerator<Buffer>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await source.next();
        if (next.done) controller.close();
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await source.return(undefined);
    },
  });
}

/**
 * Reads the archive's bytes from `source` into an ArchiveExtractor while counting and hashing
 * them, and lets the extracted tree into `destination` only when the size and SHA-256 are the
 * recorded ones: a corrupt or replaced object is refused when its last byte arrives, with nothing
 * unpacked. A size beyond the recorded one stops the download at once.
 */
async function receive(
  source: AsyncIterable<Uint8Array>,
  artifact: StoredArtifact,
  destination: string,
  what: string,
): Promise<void> {
  const extractor = await ArchiveExtractor.open(destination, artifact.name).catch((error: unknown) => {
    throw fileSystemError(error, what);
  });
  try {
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > artifact.size) {
          throw new ArtifactError(
            "RevisionUnavailable",
            `${what} differs from the recorded one: expected ${artifact.size} bytes with sha256 ${artifact.sha256}, ` +
              `found more than ${artifact.size} bytes; nothing was unpacked`,
          );
        }
        hash.update(chunk);
        await extractor.write(chunk);
      }
    } catch (error) {
      throw storeError(error, `${what} could not be downloaded`);
    }
    const sha256 = hash.digest("hex");
    if (size !== artifact.size || sha256 !== artifact.sha256) {
      throw new ArtifactError(
        "RevisionUnavailable",
        `${what} differs from the recorded one: expected ${artifact.size} bytes with sha256 ${artifact.sha256}, ` +
          `found ${size} bytes with sha256 ${sha256}; nothing was unpacked`,
      );
    }
  } catch (error) {
    await extractor.discard();
    throw error;
  }
  await extractor.finish();
}
