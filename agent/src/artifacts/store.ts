/**
 * The ArtifactStore over the server's job artifact routes (PROTOCOL.md 9.3): the agent has no
 * access to the artifacts bucket on NATS; it streams an output's archive to
 * `PUT <server>/agents/jobs/<jobId>/<attempt>/outputs/<name>` and an input's from
 * `GET <server>/agents/jobs/<jobId>/<attempt>/inputs/<name>`, with its agent token and the job's
 * lease token, and the server moves the bytes to and from the object store. Size and SHA-256 are
 * computed over the exact bytes sent, while they stream, and compared with what the server stored;
 * on download they are checked while the archive unpacks into a staging directory, which reaches
 * the workspace only when they match the recorded ones. Neither way holds an artifact in memory
 * (but an input of one small chunk, read whole and unpacked from memory).
 */
import { createHash } from "node:crypto";
import {
  LEASE_TOKEN_HEADER,
  jobArtifactPath,
  storedArtifactSchema,
  type StoredArtifact,
} from "@sluice/protocol";
import { ArtifactError, type ArtifactStore, type JobLease, type OutputSpec } from "../providers/types";
import {
  ArchiveExtractor,
  chooseCompressionLevel,
  collectEntries,
  createArchiveStream,
  unpackArchive,
} from "./archive";

export const DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024 * 1024 * 1024;

export interface ArtifactStoreOptions {
  /** The server's HTTP(S) address (--server-url). */
  serverUrl: string;
  /** The agent's token: with the job's lease token, it proves the request is the job's. */
  token: string;
  /** Largest archive accepted for upload, in bytes (default 5 GiB). */
  maxBytes?: number;
  /**
   * gzip level 0–9 for every upload. Without it each artifact is sampled: compressed at level 1
   * (DEFAULT_COMPRESSION_LEVEL), or stored in gzip's uncompressed blocks (level 0) when the
   * sample shrinks by less than a tenth (archive.ts, chooseCompressionLevel).
   */
  compressionLevel?: number;
  /** A transfer that moves no byte for this long is abandoned as SystemUnavailable (default TRANSFER_IDLE_MS). */
  idleMs?: number;
}

/** Inputs up to this size are read whole and unpacked from memory. */
export const SMALL_OBJECT_BYTES = 128 * 1024;

/**
 * The server could not be reached or could not reach the object store, or asked again later (its
 * 503, its 409 while the job's accept is on its way): passes with time (runtime/retry.ts reads
 * `status`).
 */
export class ServerUnavailable extends Error {
  override readonly name = "ServerUnavailable";
  readonly status = 503;
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
  info: { size: number; sha256: string },
): ArtifactError {
  return new ArtifactError(
    "RevisionUnavailable",
    `${what} differs from the recorded one: expected ${artifact.size} bytes with sha256 ${artifact.sha256}, ` +
      `found ${info.size} bytes with sha256 ${info.sha256 || "(unknown)"}`,
  );
}

/** A failure to talk to the server: passes with time (ServerUnavailable as its cause). */
function transportError(error: unknown, what: string): ArtifactError {
  if (error instanceof ArtifactError) return error;
  const message = errorText(error);
  return new ArtifactError("SystemUnavailable", `${what}: the server is unreachable: ${message}`, {
    cause: new ServerUnavailable(message),
  });
}

/** An error's message with its cause's (fetch says "fetch failed" and puts why in the cause). */
function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message && cause.message !== message
    ? `${message} (${cause.message})`
    : message;
}

/**
 * The error of a refused or failed request: 409 (the accept is on its way), 429 and 5xx pass with
 * time; 401 and 403 are refusals (PermissionError); 404 is a missing job or artifact.
 */
async function answerError(response: Response, what: string, missing: string): Promise<ArtifactError> {
  const text = await response.text().catch(() => "");
  let why = `HTTP ${response.status}`;
  try {
    const body = JSON.parse(text) as { error?: unknown; errors?: Array<{ message?: unknown }> };
    const message = typeof body.error === "string" ? body.error : body.errors?.[0]?.message;
    if (typeof message === "string") why = message;
  } catch {
    // not JSON: the status says it
  }
  const { status } = response;
  if (status === 409 || status === 429 || status >= 500)
    return new ArtifactError("SystemUnavailable", `${what}: the server answered ${status}: ${why}`, {
      cause: new ServerUnavailable(why),
    });
  if (status === 401 || status === 403)
    return new ArtifactError("PermissionError", `${what}: the server refused access: ${why}`);
  if (status === 404) return new ArtifactError("RevisionUnavailable", `${what} ${missing}: ${why}`);
  return new ArtifactError("ConfigurationError", `${what}: the server answered ${status}: ${why}`);
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
      throw transportError(error, `${what} could not be downloaded`);
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

export function createArtifactStore(options: ArtifactStoreOptions): ArtifactStore {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  const url = (direction: "input" | "output", lease: JobLease, name: string) =>
    new URL(jobArtifactPath(direction, lease.jobId, lease.attempt, name), options.serverUrl).toString();
  const headersOf = (lease: JobLease): Record<string, string> => ({
    authorization: `Bearer ${options.token}`,
    [LEASE_TOKEN_HEADER]: lease.leaseToken,
  });

  return {
    async upload(name: string, spec: OutputSpec, lease: JobLease): Promise<StoredArtifact> {
      const what = `artifact ${name}`;
      const list = await collectEntries(name, spec).catch((error: unknown) => {
        throw fileSystemError(error, what);
      });
      const level = options.compressionLevel ?? (await chooseCompressionLevel(spec.root, list.files));
      const archive = createArchiveStream(spec.root, list.paths, level);
      const hash = createHash("sha256");
      let size = 0;
      // The archive's failure (the file system's, or the cap's), told apart from the server's.
      let packFailure: ArtifactError | null = null;
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
            hash.update(chunk);
            idle.touch();
            yield chunk;
          }
        } catch (error) {
          packFailure = fileSystemError(error, `${what} could not be packed`);
          throw packFailure;
        } finally {
          await archive.return(undefined);
        }
      }

      const idle = idleSignal(options.idleMs ?? TRANSFER_IDLE_MS);
      let response: Response;
      try {
        response = await fetch(url("output", lease, name), {
          method: "PUT",
          headers: { ...headersOf(lease), "content-type": "application/gzip" },
          body: webStream(bytes()),
          duplex: "half",
          signal: idle.signal,
        } as RequestInit);
      } catch (error) {
        idle.done();
        if (packFailure) throw packFailure;
        throw transportError(error, `${what} could not be uploaded`);
      }
      if (packFailure) {
        await response.body?.cancel().catch(() => undefined);
        throw packFailure;
      }
      if (!response.ok) throw await answerError(response, `${what} could not be uploaded`, "was refused");
      let stored: StoredArtifact;
      try {
        stored = storedArtifactSchema.parse(await response.json());
      } catch (error) {
        throw transportError(error, `${what}: the server's answer is unreadable`);
      } finally {
        idle.done();
      }
      const sha256 = hash.digest("hex");
      if (stored.name !== name || stored.size !== size || stored.sha256 !== sha256) {
        throw new ArtifactError(
          "SystemUnavailable",
          `${what}: the server stored ${stored.size} bytes with sha256 ${stored.sha256}; ${size} bytes with sha256 ${sha256} were sent`,
        );
      }
      return stored;
    },

    async download(artifact: StoredArtifact, destination: string, lease: JobLease): Promise<void> {
      const what = `artifact ${artifact.name} (${artifact.objectKey})`;
      const idle = idleSignal(options.idleMs ?? TRANSFER_IDLE_MS);
      let response: Response;
      try {
        response = await fetch(url("input", lease, artifact.name), {
          headers: headersOf(lease),
          signal: idle.signal,
        });
      } catch (error) {
        idle.done();
        throw transportError(error, `${what} could not be downloaded`);
      }
      try {
        await receiveInput(response, artifact, destination, what, idle.touch);
      } finally {
        idle.done();
      }
    },
  };
}

/**
 * A transfer that moves no byte for this long is abandoned (and retried by the caller): a server
 * that lost NATS or PostgreSQL mid-transfer may never answer, and a job must not wait on it forever.
 */
export const TRANSFER_IDLE_MS = 30_000;

/** An abort signal that fires once `touch()` has not been called for `idleMs`; `done()` disarms it. */
function idleSignal(idleMs: number): { signal: AbortSignal; touch(): void; done(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  const touch = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no progress for ${idleMs / 1000} s`)), idleMs);
    timer.unref();
  };
  touch();
  return {
    signal: controller.signal,
    touch,
    done: () => {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** The body of an input's download: checked against what the job recorded, then unpacked. */
async function receiveInput(
  response: Response,
  artifact: StoredArtifact,
  destination: string,
  what: string,
  touch: () => void,
): Promise<void> {
  if (!response.ok)
    throw await answerError(response, `${what} could not be downloaded`, "is missing from the object store");
  const stored = {
    size: Number(response.headers.get("x-object-size") ?? Number.NaN),
    sha256: response.headers.get("x-object-sha256") ?? "",
  };
  if (stored.size !== artifact.size) {
    // Not worth downloading; the stored digest names what is there instead.
    await response.body?.cancel().catch(() => undefined);
    throw sizeMismatch(what, artifact, stored);
  }
  if (artifact.size <= SMALL_OBJECT_BYTES) {
    let data: Buffer;
    try {
      data = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      throw transportError(error, `${what} could not be downloaded`);
    }
    const sha256 = createHash("sha256").update(data).digest("hex");
    if (data.length !== artifact.size || sha256 !== artifact.sha256) {
      throw new ArtifactError(
        "RevisionUnavailable",
        `${what} differs from the recorded one: expected ${artifact.size} bytes with sha256 ${artifact.sha256}, ` +
          `found ${data.length} bytes with sha256 ${sha256}; nothing was unpacked`,
      );
    }
    await unpackArchive(data, destination, artifact.name);
    return;
  }
  await receive(bodyChunks(response, touch), artifact, destination, what);
}

/** Pieces of the body are handed on in blocks of about this size (fewer, larger writes to unpack). */
const RECEIVE_BLOCK_BYTES = 1024 * 1024;

/**
 * The response's body in blocks of at least RECEIVE_BLOCK_BYTES (the last one smaller): the
 * socket delivers pieces of 16–64 KiB, each of which would otherwise be a write and an await of
 * its own. Left early (too many bytes), the body is cancelled.
 */
async function* bodyChunks(
  response: Response,
  touch: () => void = () => undefined,
): AsyncGenerator<Uint8Array> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let ended = false;
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  try {
    for (;;) {
      const next = await reader.read();
      touch();
      if (next.done) {
        ended = true;
        break;
      }
      held.push(next.value);
      heldBytes += next.value.length;
      if (heldBytes >= RECEIVE_BLOCK_BYTES) {
        yield held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
        held = [];
        heldBytes = 0;
      }
    }
    if (heldBytes > 0) yield held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
  } finally {
    if (!ended) await reader.cancel().catch(() => undefined);
  }
}

/** A web ReadableStream over `source` (a request body fetch can stream). */
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
