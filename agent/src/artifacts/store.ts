/**
 * The ArtifactStore over a nats.js v3 object store (PROTOCOL.md section 9). Size and SHA-256 are
 * computed over the exact bytes stored, while they stream, and verified again on download: the
 * object store's own digest only proves the object is intact, not that it is the one recorded.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { JetStreamManager } from "@nats-io/jetstream";
import { setSha256Backend, type ObjectStore } from "@nats-io/obj";
import type { StoredArtifact } from "@sluice/protocol";
import { ArtifactError, type ArtifactStore, type OutputSpec } from "../providers/types";
import { collectEntries, createPackStream, unpackArchive } from "./archive";

export const DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024 * 1024 * 1024;

export interface ArtifactStoreOptions {
  /** Largest archive accepted for upload, in bytes (default 5 GiB). */
  maxBytes?: number;
  /**
   * gzip level 0–9 for uploads (default zlib's 6). gzip is the slowest step of an upload (about
   * 30 MB/s of incompressible input at 6, 50 MB/s at 1 on the reference machine).
   */
  compressionLevel?: number;
  /**
   * Direct gets on the bucket's stream: the connection's JetStream manager and the bucket's name.
   * With them, an object of one chunk (at most SMALL_OBJECT_BYTES) is read with two direct gets
   * (its metadata, its data) and unpacked from memory, instead of through an ephemeral consumer
   * on the bucket's stream and a temporary file: most input artifacts of a pipeline are small,
   * and that consumer is most of the cost of their download.
   */
  direct?: DirectAccess;
}

export interface DirectAccess {
  jsm: JetStreamManager;
  bucket: string;
}

/** Objects up to this size, stored in one chunk, take the one-message download path. */
export const SMALL_OBJECT_BYTES = 128 * 1024;

let backendChoice: Promise<void> | undefined;

/**
 * nats.js hashes every object it stores and reads; its pure-JS SHA-256 runs at a quarter of the
 * native speed (STACK.md). The native backend loads node:crypto with a dynamic import, which some
 * hosts cannot run (jest's VM without --experimental-vm-modules), so it is probed first and the
 * pure-JS backend kept where the import fails.
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
  bucket?: string;
  nuid?: string;
  size?: number;
  chunks?: number;
  digest?: string;
  deleted?: boolean;
  options?: { link?: unknown };
}

/**
 * The download of an object stored in one chunk: its metadata, then its one data message (two
 * direct gets on the bucket's stream, subjects as ADR-20 and nats.js name them), verified against
 * the recorded size and SHA-256 and unpacked from memory. Returns false, having changed nothing,
 * for any other object (larger, several chunks, a link) and when a direct get is refused: the
 * caller then reads it through the object store's own reader.
 */
async function downloadSmall(
  { jsm, bucket }: DirectAccess,
  artifact: StoredArtifact,
  destination: string,
  what: string,
): Promise<boolean> {
  if (artifact.size > SMALL_OBJECT_BYTES) return false;
  const stream = `OBJ_${bucket}`;
  const encodedName = Buffer.from(artifact.objectKey)
    .toString("base64")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
  let meta: ObjectMeta;
  try {
    const message = await jsm.direct.getMessage(stream, { last_by_subj: `$O.${bucket}.M.${encodedName}` });
    if (message === null) {
      throw new ArtifactError("RevisionUnavailable", `${what} is missing from the object store`);
    }
    meta = message.json<ObjectMeta>();
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    return false;
  }
  if (meta.deleted)
    throw new ArtifactError("RevisionUnavailable", `${what} is missing from the object store`);
  if (meta.options?.link || typeof meta.nuid !== "string" || typeof meta.size !== "number") return false;
  if (meta.size !== artifact.size) {
    throw sizeMismatch(what, artifact, { size: meta.size, digest: meta.digest ?? "" });
  }
  if ((meta.chunks ?? 0) > 1) return false;

  let data: Buffer;
  if (meta.size === 0) {
    data = Buffer.alloc(0);
  } else {
    let message;
    try {
      message = await jsm.direct.getMessage(stream, { last_by_subj: `$O.${bucket}.C.${meta.nuid}` });
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

export function createArtifactStore(
  objectStore: ObjectStore,
  options: ArtifactStoreOptions = {},
): ArtifactStore {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;

  return {
    async upload(name: string, objectKey: string, spec: OutputSpec): Promise<StoredArtifact> {
      const what = `artifact ${name}`;
      await chooseSha256Backend();
      const entries = await collectEntries(name, spec).catch((error: unknown) => {
        throw fileSystemError(error, what);
      });
      const pack = createPackStream(spec.root, entries, options.compressionLevel);
      const hash = createHash("sha256");
      let size = 0;
      let failure: ArtifactError | undefined;
      const iterator = pack[Symbol.asyncIterator]();

      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await iterator.next();
            if (next.done) {
              controller.close();
              return;
            }
            const chunk = next.value;
            size += chunk.length;
            if (size > maxBytes) {
              failure = new ArtifactError(
                "ConfigurationError",
                `${what} is larger than the ${formatBytes(maxBytes)} cap`,
              );
              controller.error(failure);
              return;
            }
            hash.update(chunk);
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
          } catch (error) {
            failure = fileSystemError(error, `${what} could not be packed`);
            controller.error(failure);
          }
        },
        cancel() {
          pack.destroy();
        },
      });

      let info;
      try {
        info = await objectStore.put({ name: objectKey }, body);
      } catch (error) {
        pack.destroy();
        throw failure ?? storeError(error, `${what} could not be uploaded`);
      }
      if (failure) throw failure;
      if (info.size !== size) {
        throw new ArtifactError(
          "SystemUnavailable",
          `${what}: the object store recorded ${info.size} bytes, ${size} were sent`,
        );
      }
      return { name, objectKey, size, sha256: hash.digest("hex") };
    },

    async download(artifact: StoredArtifact, destination: string): Promise<void> {
      const what = `artifact ${artifact.name} (${artifact.objectKey})`;
      await chooseSha256Backend();
      if (options.direct && (await downloadSmall(options.direct, artifact, destination, what))) return;
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

      const parent = path.dirname(path.resolve(destination));
      await mkdir(parent, { recursive: true });
      const temp = path.join(
        parent,
        `.${path.basename(destination)}.${randomBytes(6).toString("hex")}.tar.gz`,
      );
      const hash = createHash("sha256");
      let size = 0;
      let oversize = false;
      try {
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            size += chunk.length;
            if (size > artifact.size) {
              oversize = true;
              callback(new Error("larger than recorded"));
              return;
            }
            hash.update(chunk);
            callback(null, chunk);
          },
        });
        try {
          await pipeline(
            Readable.fromWeb(result.data as unknown as NodeReadableStream<Uint8Array>),
            counter,
            createWriteStream(temp),
          );
        } catch (error) {
          if (!oversize) {
            const code = (error as NodeJS.ErrnoException).code;
            throw code ? fileSystemError(error, what) : storeError(error, `${what} could not be downloaded`);
          }
        }
        const streamError = oversize ? null : await result.error;
        if (streamError) {
          if (/digest/i.test(streamError.message)) {
            throw new ArtifactError("RevisionUnavailable", `${what} is corrupt: ${streamError.message}`);
          }
          throw storeError(streamError, `${what} could not be downloaded`);
        }
        const sha256 = oversize ? "(not computed: too large)" : hash.digest("hex");
        if (oversize || size !== artifact.size || sha256 !== artifact.sha256) {
          throw new ArtifactError(
            "RevisionUnavailable",
            `${what} differs from the recorded one: expected ${artifact.size} bytes with sha256 ${artifact.sha256}, ` +
              `found ${oversize ? `more than ${artifact.size}` : size} bytes with sha256 ${sha256}`,
          );
        }
        await unpackArchive(temp, destination, artifact.name);
      } finally {
        await rm(temp, { force: true });
      }
    },
  };
}
