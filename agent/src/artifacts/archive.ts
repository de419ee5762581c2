/**
 * Artifact archives: gzip-compressed POSIX tar (PROTOCOL.md section 9), compressed at a fast level
 * or, when a sample says compression would not pay, stored in gzip's uncompressed blocks.
 * Unpacking treats every archive as hostile: each entry is checked before it is written, nothing
 * is written through a link or outside a staging directory, and the tree reaches the destination
 * only once the whole archive is accepted, so a refused archive leaves no trace.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, mkdirSync, type Stats } from "node:fs";
import { lstat, mkdir, open, readdir, readlink, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  constants as zlibConstants,
  crc32,
  createGunzip,
  deflateRaw,
  type Gunzip,
  type InputType,
  type ZlibOptions,
} from "node:zlib";
import { Pack, Unpack, extract, list, type ReadEntry } from "tar";
import { ArtifactError, type OutputSpec } from "../providers/types";

/** What the validator needs to know of an entry, from an archive or from the file system. */
export interface EntryInfo {
  path: string;
  type: string;
  linkpath?: string;
}

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);
/** Archives in memory with at most this many entries are unpacked synchronously. */
const SYNC_UNPACK_ENTRIES = 32;
const deflateRawAsync = promisify(deflateRaw) as (data: InputType, options: ZlibOptions) => Promise<Buffer>;
/** Symlink expansions allowed while resolving one target; more means a loop. */
const MAX_LINK_HOPS = 40;

function refuse(message: string): never {
  throw new ArtifactError("ConfigurationError", message);
}

/**
 * Splits an archive path into segments, or null when it is absolute or climbs with "..".
 * "." and empty segments are dropped ("./a//b/" → ["a", "b"]).
 */
export function safeSegments(entryPath: string): string[] | null {
  if (entryPath.startsWith("/") || /^[A-Za-z]:/.test(entryPath) || entryPath.includes("\0")) return null;
  const segments = entryPath.split("/").filter((s) => s !== "" && s !== ".");
  return segments.includes("..") ? null : segments;
}

/**
 * Checks entries one by one (`add`), then the links among them (`finish`). Symlink targets are
 * resolved against the symlinks of the archive itself, as the kernel would after extraction, so
 * that `a -> .` followed by `b -> a/..` is seen to leave the destination.
 */
export class EntryValidator {
  private readonly symlinks = new Map<string, string>();
  private readonly files = new Set<string>();
  private readonly hardlinks: { path: string; target: string }[] = [];
  private readonly paths: string[] = [];

  constructor(private readonly artifact: string) {}

  /** Checks one entry on its own; returns its normalised path ("" for the archive's root). */
  add(entry: EntryInfo): string {
    const what = `artifact ${this.artifact}: entry ${JSON.stringify(entry.path)}`;
    const segments = safeSegments(entry.path);
    if (segments === null) {
      refuse(`${what} is refused: its path is absolute or contains a ".." segment`);
    }
    const key = segments.join("/");
    if (key === "") {
      if (entry.type === "Directory") return key;
      refuse(`${what} is refused: only a directory may stand for the archive's root`);
    }
    if (FILE_TYPES.has(entry.type)) {
      this.files.add(key);
    } else if (entry.type === "SymbolicLink") {
      const target = entry.linkpath ?? "";
      if (target === "" || target.startsWith("/")) {
        refuse(`${what} is refused: symbolic link to ${JSON.stringify(target)} points outside the artifact`);
      }
      this.symlinks.set(key, target);
    } else if (entry.type === "Link") {
      const targetSegments = safeSegments(entry.linkpath ?? "");
      if (targetSegments === null || targetSegments.length === 0) {
        refuse(
          `${what} is refused: hard link to ${JSON.stringify(entry.linkpath)} points outside the artifact`,
        );
      }
      const target = targetSegments.join("/");
      if (!this.files.has(target)) {
        refuse(
          `${what} is refused: hard link to ${JSON.stringify(entry.linkpath)}, which is not a regular file stored before it`,
        );
      }
      this.hardlinks.push({ path: key, target });
      this.files.add(key);
    } else if (entry.type !== "Directory") {
      refuse(
        `${what} is refused: entries of type ${entry.type} are not allowed (only files, directories and links)`,
      );
    }
    this.paths.push(key);
    return key;
  }

  /**
   * `add` for an extractor that writes each entry as it arrives: also refuses at once what
   * `finish` would refuse later and what writing could follow, an entry written through a
   * symbolic link seen so far and a hard link to a symbolic link or through one. What only the
   * whole archive decides (where each symbolic link resolves) stays for `finish`; until then a
   * symbolic link is only created, never followed.
   */
  addBeforeWrite(entry: EntryInfo): void {
    const key = this.add(entry);
    if (key === "") return;
    const through = this.symlinkPrefix(key);
    if (through !== undefined) {
      refuse(
        `artifact ${this.artifact}: entry ${JSON.stringify(key)} is refused: it goes through the symbolic link ${JSON.stringify(through)}`,
      );
    }
    if (entry.type === "Link") {
      const target = this.hardlinks[this.hardlinks.length - 1]!.target;
      if (this.symlinks.has(target) || this.symlinkPrefix(target) !== undefined) {
        refuse(
          `artifact ${this.artifact}: entry ${JSON.stringify(key)} is refused: hard link to ${JSON.stringify(target)} goes through a symbolic link`,
        );
      }
    }
  }

  /** Refuses entries written through a symlink of the archive and links that resolve outside. */
  finish(): void {
    for (const key of this.paths) {
      const through = this.symlinkPrefix(key);
      if (through !== undefined) {
        refuse(
          `artifact ${this.artifact}: entry ${JSON.stringify(key)} is refused: it goes through the symbolic link ${JSON.stringify(through)}`,
        );
      }
    }
    for (const { path: key, target } of this.hardlinks) {
      if (this.symlinks.has(target) || this.symlinkPrefix(target) !== undefined) {
        refuse(
          `artifact ${this.artifact}: entry ${JSON.stringify(key)} is refused: hard link to ${JSON.stringify(target)} goes through a symbolic link`,
        );
      }
    }
    for (const [key, target] of this.symlinks) {
      if (!this.staysInside(key, target)) {
        refuse(
          `artifact ${this.artifact}: entry ${JSON.stringify(key)} is refused: symbolic link to ${JSON.stringify(target)} resolves outside the artifact`,
        );
      }
    }
  }

  private symlinkPrefix(key: string): string | undefined {
    const segments = key.split("/");
    for (let i = 1; i < segments.length; i++) {
      const prefix = segments.slice(0, i).join("/");
      if (this.symlinks.has(prefix)) return prefix;
    }
    return undefined;
  }

  /** Walks `target` from the link's directory, expanding the archive's symlinks on the way. */
  private staysInside(linkKey: string, target: string): boolean {
    const stack = linkKey.split("/").slice(0, -1);
    const queue = target.split("/");
    let hops = 0;
    while (queue.length > 0) {
      const segment = queue.shift()!;
      if (segment === "" || segment === ".") continue;
      if (segment === "..") {
        if (stack.length === 0) return false;
        stack.pop();
        continue;
      }
      stack.push(segment);
      const link = this.symlinks.get(stack.join("/"));
      if (link !== undefined) {
        if (++hops > MAX_LINK_HOPS || link.startsWith("/")) return false;
        stack.pop();
        queue.unshift(...link.split("/"));
      }
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Packing

/** What an archive will hold: every entry in order, and the regular files with their sizes. */
export interface PackList {
  paths: string[];
  files: { path: string; size: number }[];
}

/**
 * Lists what `spec` puts in the archive, sorted, directories expanded, and validated as the
 * extractor will: a link pointing outside fails the upload, not the job that downloads it later.
 */
export async function collectEntries(artifact: string, spec: OutputSpec): Promise<PackList> {
  const root = spec.root;
  const validator = new EntryValidator(artifact);
  const out: string[] = [];
  const files: PackList["files"] = [];
  const seen = new Set<string>();

  const visit = async (rel: string): Promise<void> => {
    if (seen.has(rel)) return;
    seen.add(rel);
    let stats;
    try {
      stats = await lstat(path.join(root, rel));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        refuse(`artifact ${artifact}: ${JSON.stringify(rel)} does not exist under ${root}`);
      }
      throw error;
    }
    if (stats.isSymbolicLink()) {
      validator.add({ path: rel, type: "SymbolicLink", linkpath: await readlink(path.join(root, rel)) });
      out.push(rel);
    } else if (stats.isFile()) {
      validator.add({ path: rel, type: "File" });
      out.push(rel);
      files.push({ path: rel, size: stats.size });
    } else if (stats.isDirectory()) {
      validator.add({ path: rel, type: "Directory" });
      out.push(rel);
      const children = (await readdir(path.join(root, rel))).sort();
      for (const child of children) await visit(`${rel}/${child}`);
    } else {
      refuse(
        `artifact ${artifact}: ${JSON.stringify(rel)} is neither a file, a directory nor a symbolic link and cannot be stored`,
      );
    }
  };

  const parentsChecked = new Set<string>();
  const checkParents = async (segments: string[]) => {
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join("/");
      if (parentsChecked.has(parent)) continue;
      const stats = await lstat(path.join(root, parent)).catch(() => undefined);
      if (stats?.isSymbolicLink()) {
        refuse(
          `artifact ${artifact}: ${JSON.stringify(segments.join("/"))} goes through the symbolic link ${JSON.stringify(parent)}`,
        );
      }
      parentsChecked.add(parent);
    }
  };

  const rootStats = await lstat(root).catch(() => undefined);
  if (!rootStats?.isDirectory()) refuse(`artifact ${artifact}: ${root} is not a directory`);
  const requested = spec.files ?? (await readdir(root)).sort();
  for (const file of [...requested].sort()) {
    const segments = safeSegments(file);
    if (segments === null || segments.length === 0) {
      refuse(`artifact ${artifact}: ${JSON.stringify(file)} is not a relative path inside ${root}`);
    }
    await checkParents(segments);
    await visit(segments.join("/"));
  }
  validator.finish();
  return { paths: out, files };
}

/**
 * gzip level of uploads unless the artifact is found incompressible: the fastest. On build output
 * level 6 (zlib's default) takes three to four times the CPU for a few per cent less.
 */
export const DEFAULT_COMPRESSION_LEVEL = 1;
/** Estimated compressed ÷ original size above which an artifact is stored without compression. */
export const INCOMPRESSIBLE_RATIO = 0.9;
/** Artifacts with fewer bytes of files than this are compressed without sampling them first. */
const SAMPLE_ABOVE_BYTES = 256 * 1024;
/** Bytes read from each sampled file, at its start, middle and end. */
const SAMPLE_BYTES = 64 * 1024;
/** The largest files are sampled, at most this many, until they hold 90 % of the bytes. */
const SAMPLED_FILES = 16;

/**
 * Starts packing `entries` (from `collectEntries`) under `root` as an uncompressed tar stream.
 * Directories are not recursed again: the list is complete and sorted, which keeps archives
 * reproducible.
 */
export function createPackStream(root: string, entries: readonly string[]): Pack {
  const pack = new Pack({
    cwd: root,
    portable: true,
    noDirRecurse: true,
    follow: false,
    strict: true,
    // node-tar 7.5 can stall forever when files with several hard links are stat'ed out of order
    // by parallel jobs; one job at a time never defers them.
    jobs: 1,
  });
  // An empty artifact is still an archive: with no entry node-tar writes no end-of-archive
  // blocks, which no reader accepts, so the root directory itself stands in.
  for (const entry of entries.length > 0 ? entries : ["."]) pack.add(entry);
  pack.end();
  return pack;
}

/**
 * The archive as stored: the tar stream of `createPackStream` as one gzip member at `level`
 * (level 0 stores the tar in deflate's uncompressed blocks: no compression work, still the gzip
 * stream every reader of an artifact expects, PROTOCOL.md 9). Deflated as pigz does: the tar is
 * cut into blocks of DEFLATE_BLOCK_BYTES, each deflated on node:zlib's thread pool with the
 * previous block's last 32 KiB as its dictionary and ended with a sync flush (the last with the
 * final block), several blocks at once; their concatenation is one deflate stream, framed by
 * gzip's header and trailer (CRC-32 and size, computed here). One zlib stream would compress on
 * one core, and node-tar's own gzip option on the main thread.
 */
export async function* createArchiveStream(
  root: string,
  entries: readonly string[],
  level: number,
): AsyncGenerator<Buffer> {
  const pack = createPackStream(root, entries);
  try {
    yield* gzipInBlocks(pack as AsyncIterable<Buffer>, level);
  } finally {
    if (!pack.emittedEnd) pack.destroy();
  }
}

/**
 * Input bytes per deflate block of `createArchiveStream`: a little under 1 MiB, so that even a
 * stored block's output (5 bytes more per 64 KiB) fits in one 1 MiB chunk of the object store.
 */
export const DEFLATE_BLOCK_BYTES = 1024 * 1024 - 4096;
/** Blocks deflated at once: the cores, at least two (the thread pool has four threads). */
const DEFLATE_PARALLEL = Math.min(4, Math.max(2, availableParallelism()));
/** deflate's window: what a block may refer back to in the one before. */
const WINDOW_BYTES = 32 * 1024;
/** gzip's header as zlib writes it: deflate, no name, no time, Unix. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);

/** Bytes that hold deflate's output of `length` bytes at any level (zlib's deflateBound, rounded up). */
function outputRoom(length: number): number {
  return length + (length >>> 10) + 1024;
}

/** One gzip member of `source`, deflated in blocks as `createArchiveStream` says. */
export async function* gzipInBlocks(source: AsyncIterable<Buffer>, level: number): AsyncGenerator<Buffer> {
  let crc = 0;
  let size = 0;
  let previous: Buffer | undefined;
  const queue: Promise<Buffer>[] = [];
  const start = (block: Buffer, last: boolean) => {
    crc = crc32(block, crc);
    size += block.length;
    const options: ZlibOptions = {
      level,
      // The whole block's output in one piece (zlib's 16 KiB would cost a thread pool round
      // trip each): room for a stored block, a little larger than its input.
      chunkSize: outputRoom(block.length),
      finishFlush: last ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH,
      ...(previous && level > 0 ? { dictionary: previous.subarray(-WINDOW_BYTES) } : {}),
    };
    previous = block;
    const deflated = deflateRawAsync(block, options);
    deflated.catch(() => undefined); // awaited in order below
    queue.push(deflated);
  };

  yield GZIP_HEADER;
  let pieces: Buffer[] = [];
  let held = 0;
  for await (const chunk of source) {
    let piece = chunk;
    while (held + piece.length >= DEFLATE_BLOCK_BYTES) {
      const take = DEFLATE_BLOCK_BYTES - held;
      pieces.push(piece.subarray(0, take));
      start(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, DEFLATE_BLOCK_BYTES), false);
      pieces = [];
      held = 0;
      piece = piece.subarray(take);
      while (queue.length >= DEFLATE_PARALLEL) yield await queue.shift()!;
    }
    if (piece.length > 0) {
      // node-tar reuses no buffer it has emitted, so holding on to a piece is safe.
      pieces.push(piece);
      held += piece.length;
    }
  }
  start(Buffer.concat(pieces, held), true);
  while (queue.length > 0) yield await queue.shift()!;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  yield trailer;
}

/** Output chunks of node:zlib streams: fewer round trips to the thread pool than its 16 KiB. */
const ZLIB_CHUNK_BYTES = 1024 * 1024;

/**
 * The gzip level for `files` (from `collectEntries`): `level`, or 0 when a sample says that
 * compression would save less than a tenth. The largest files are sampled (start, middle and
 * end) until they hold 90 % of the bytes; what they compress to at `level`, weighted by their
 * sizes, estimates the whole. A file that cannot be read leaves the choice to `level` (the
 * packer reports the error).
 */
export async function chooseCompressionLevel(
  root: string,
  files: PackList["files"],
  level: number = DEFAULT_COMPRESSION_LEVEL,
): Promise<number> {
  if (level === 0) return 0;
  const ratio = await estimateCompressedRatio(root, files, level).catch(() => undefined);
  return ratio !== undefined && ratio > INCOMPRESSIBLE_RATIO ? 0 : level;
}

/** Compressed ÷ original size estimated from samples, or undefined for a small artifact. */
export async function estimateCompressedRatio(
  root: string,
  files: PackList["files"],
  level: number = DEFAULT_COMPRESSION_LEVEL,
): Promise<number | undefined> {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  if (total < SAMPLE_ABOVE_BYTES) return undefined;
  const largest = [...files].sort((a, b) => b.size - a.size);
  const chosen: PackList["files"] = [];
  let covered = 0;
  for (const file of largest) {
    if (chosen.length >= SAMPLED_FILES || covered >= total * 0.9 || file.size === 0) break;
    chosen.push(file);
    covered += file.size;
  }
  const ratios = await Promise.all(
    chosen.map((file) => sampleRatio(path.join(root, file.path), file.size, level)),
  );
  let estimated = 0;
  chosen.forEach((file, i) => (estimated += file.size * ratios[i]!));
  // The files not sampled are taken to compress like the sampled ones on average.
  estimated += (total - covered) * (estimated / covered);
  return estimated / total;
}

async function sampleRatio(file: string, size: number, level: number): Promise<number> {
  const handle = await open(file, "r");
  try {
    const offsets = size <= 3 * SAMPLE_BYTES ? [0] : [0, Math.floor(size / 2), size - SAMPLE_BYTES];
    const length = size <= 3 * SAMPLE_BYTES ? size : SAMPLE_BYTES;
    const parts = await Promise.all(
      offsets.map(async (position) => {
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        return buffer.subarray(0, bytesRead);
      }),
    );
    const sample = Buffer.concat(parts);
    if (sample.length === 0) return 1;
    const compressed = await deflateRawAsync(sample, { level, chunkSize: outputRoom(sample.length) });
    return compressed.length / sample.length;
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Unpacking

/**
 * Reads every header of `archive` (a tar.gz file, or the whole archive in memory) and refuses the
 * archive if one is unsafe. Resolves with the number of entries.
 */
export async function validateArchive(archive: string | Buffer, artifact: string): Promise<number> {
  if (typeof archive !== "string") return validateArchiveBuffer(archive, artifact);
  const check = entryChecker(artifact);
  try {
    await list({ file: archive, strict: true, onReadEntry: check.onReadEntry });
  } catch (error) {
    check.failed(error);
  }
  return check.finish();
}

/** validateArchive of an archive in memory, synchronously (for small archives). */
export function validateArchiveBuffer(archive: Buffer, artifact: string): number {
  const check = entryChecker(artifact);
  let failure: unknown;
  const parser = list({ sync: true, strict: true, onReadEntry: check.onReadEntry });
  parser.on("error", (error: unknown) => (failure ??= error));
  try {
    parser.end(archive);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) check.failed(failure);
  return check.finish();
}

/** Feeds read entries to an EntryValidator; `finish` throws the first refusal, else counts. */
function entryChecker(artifact: string) {
  const validator = new EntryValidator(artifact);
  let refusal: unknown;
  let count = 0;
  return {
    onReadEntry(entry: ReadEntry): void {
      count += 1;
      if (refusal === undefined) {
        try {
          validator.add({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
        } catch (error) {
          refusal = error;
        }
      }
      entry.resume();
    },
    failed(error: unknown): never {
      if (refusal !== undefined) throw refusal;
      refuse(`artifact ${artifact} is not a valid tar.gz archive: ${(error as Error).message}`);
    },
    finish(): number {
      if (refusal !== undefined) throw refusal;
      validator.finish();
      return count;
    },
  };
}

/** node-tar's own bound on how much a compressed archive may expand (zip bombs). */
const MAX_DECOMPRESSION_RATIO = 1000;

/**
 * Extracts an archive that arrives in pieces (gzip-compressed tar, or plain tar: told apart by
 * gzip's magic bytes), as it arrives, into a staging directory beside `destination`, and moves
 * the result into `destination` only when `finish` is called and accepts everything. Every entry
 * is checked before node-tar writes it (`EntryValidator.addBeforeWrite`): nothing is ever written
 * through a link, and nothing outside the staging directory; what only the whole archive decides
 * (where its symbolic links resolve) is checked by `finish`, before the move. A refused, invalid
 * or abandoned archive leaves nothing behind (`discard`). gzip runs on node:zlib's thread pool,
 * beside the main thread; node-tar parses and writes. Owners are never restored and modes are
 * reduced to permission bits, so an archive cannot plant set-uid files even when the agent runs
 * as root.
 */
export class ArchiveExtractor {
  private readonly validator: EntryValidator;
  private readonly unpack: Unpack;
  private readonly closed: Promise<void>;
  /** undefined until the first two bytes tell; null for a plain tar. */
  private gunzip: Gunzip | null | undefined;
  private head: Buffer = Buffer.alloc(0);
  private failure: unknown;
  private wake: (() => void) | undefined;
  private compressedBytes = 0;
  private expandedBytes = 0;
  private unpackEnded = false;
  private ended = false;
  private settled = false;

  private constructor(
    private readonly staging: string,
    private readonly destination: string,
    private readonly artifact: string,
  ) {
    this.validator = new EntryValidator(artifact);
    this.unpack = new Unpack({
      cwd: staging,
      strict: true,
      preserveOwner: false,
      preservePaths: false,
      unlink: false,
      filter: (_path: string, entry: ReadEntry | Stats) => this.admit(entry as ReadEntry),
    });
    this.unpack.on("error", (error: unknown) => this.fail(error));
    this.closed = new Promise<void>((resolve) => this.unpack.on("close", () => resolve()));
  }

  /** Creates the staging directory beside `destination` (and `destination`'s parent). */
  static async open(destination: string, artifact: string): Promise<ArchiveExtractor> {
    const target = path.resolve(destination);
    const parent = path.dirname(target);
    await mkdir(parent, { recursive: true });
    // mkdir's default mode, as the destination itself would get (mkdtemp's is 0700).
    const staging = path.join(parent, `.${path.basename(target)}.${randomBytes(6).toString("hex")}.partial`);
    await mkdir(staging);
    return new ArchiveExtractor(staging, target, artifact);
  }

  /** Whether the archive was already refused or found invalid (its bytes are then ignored). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Takes the next bytes of the archive; resolves when more may be written. Never rejects. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure !== undefined || this.ended) return;
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.gunzip === undefined) {
      this.head = this.head.length === 0 ? data : Buffer.concat([this.head, data]);
      if (this.head.length < 2) return;
      data = this.head;
      this.head = Buffer.alloc(0);
      this.gunzip = data[0] === 0x1f && data[1] === 0x8b ? this.startGunzip() : null;
    }
    if (this.gunzip) {
      this.compressedBytes += data.length;
      if (!this.gunzip.write(data)) await this.drained(this.gunzip);
    } else if (!this.unpack.write(data)) {
      await this.drained(this.unpack);
    }
  }

  /**
   * Ends the archive, waits for every file to be written, and moves the extracted tree into
   * `destination` (created, or merged into when it exists). Throws ArtifactError
   * (ConfigurationError for an unsafe or invalid archive, SystemUnavailable when the disk is
   * full) after removing everything it wrote.
   */
  async finish(): Promise<void> {
    await this.endInput();
    try {
      if (this.failure !== undefined) {
        if (this.failure instanceof ArtifactError) throw this.failure;
        // node-tar refuses some unsafe entries itself; the validator names them better.
        this.validator.finish();
        throw this.describe(this.failure);
      }
      this.validator.finish();
      await moveInto(this.staging, this.destination);
      this.settled = true;
    } catch (error) {
      await this.discard();
      throw error instanceof ArtifactError ? error : this.describe(error);
    }
  }

  /** Stops, waits for node-tar's pending writes, and removes the staging directory. */
  async discard(): Promise<void> {
    if (this.failure === undefined) this.fail(new Error("discarded"));
    await this.endInput();
    if (this.settled) return;
    this.settled = true;
    await rm(this.staging, { recursive: true, force: true });
  }

  private startGunzip(): Gunzip {
    const gunzip = createGunzip({ chunkSize: ZLIB_CHUNK_BYTES });
    gunzip.on("data", (data: Buffer) => {
      if (this.failure !== undefined) return;
      this.expandedBytes += data.length;
      const ratio = this.expandedBytes / this.compressedBytes;
      if (ratio > MAX_DECOMPRESSION_RATIO) {
        this.fail(
          new Error(`max decompression ratio exceeded: ${ratio.toFixed(2)} > ${MAX_DECOMPRESSION_RATIO}`),
        );
        return;
      }
      if (!this.unpack.write(data)) gunzip.pause();
    });
    this.unpack.on("drain", () => gunzip.resume());
    gunzip.on("error", (error: Error) => {
      this.fail(error);
      this.endUnpack();
    });
    gunzip.on("end", () => this.endUnpack());
    return gunzip;
  }

  private admit(entry: ReadEntry): boolean {
    if (this.failure !== undefined) return false;
    try {
      this.validator.addBeforeWrite({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
    } catch (error) {
      this.fail(error);
      return false;
    }
    if (typeof entry.mode === "number") entry.mode &= 0o777;
    return true;
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    this.wake?.();
  }

  private drained(stream: {
    once(event: "drain", f: () => void): unknown;
    off(event: "drain", f: () => void): unknown;
  }) {
    return new Promise<void>((resolve) => {
      const done = () => {
        stream.off("drain", done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      stream.once("drain", done);
    });
  }

  private endUnpack(): void {
    if (this.unpackEnded) return;
    this.unpackEnded = true;
    this.unpack.end();
  }

  /** Ends the input and resolves once node-tar has nothing left to write. */
  private endInput(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      if (this.gunzip === undefined) {
        // Fewer than two bytes in all: not gzip, and too short for a tar (node-tar says so).
        this.gunzip = null;
        if (this.failure === undefined && this.head.length > 0) this.unpack.write(this.head);
      }
      if (this.gunzip && this.failure === undefined) {
        this.gunzip.end();
      } else {
        this.gunzip?.destroy();
        this.endUnpack();
      }
    }
    return this.closed;
  }

  private describe(error: unknown): ArtifactError {
    if (error instanceof ArtifactError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      return new ArtifactError("SystemUnavailable", `artifact ${this.artifact}: no space left to unpack it`);
    }
    const message = (error as Error).message;
    return new ArtifactError(
      "ConfigurationError",
      this.unpackStarted(error)
        ? `artifact ${this.artifact} could not be unpacked into ${this.destination}: ${message}`
        : `artifact ${this.artifact} is not a valid tar.gz archive: ${message}`,
    );
  }

  /** Errors of the file system come with a path; those of the archive's bytes do not. */
  private unpackStarted(error: unknown): boolean {
    const code = (error as NodeJS.ErrnoException).code;
    return typeof code === "string" && /^E[A-Z]+$/.test(code);
  }
}

/**
 * Moves the extracted tree `from` into `to`: a rename when `to` does not exist (or is an empty
 * directory), else entry by entry, directories merged and anything else replaced, as extracting
 * into `to` would have. Never follows a symbolic link found in `to`.
 */
async function moveInto(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "ENOTDIR") throw error;
  }
  const existing = await lstat(to);
  if (!existing.isDirectory()) {
    await rm(to, { recursive: true, force: true });
    await rename(from, to);
    return;
  }
  for (const name of await readdir(from)) {
    const source = path.join(from, name);
    const target = path.join(to, name);
    const [sourceStats, targetStats] = await Promise.all([
      lstat(source),
      lstat(target).catch(() => undefined),
    ]);
    if (sourceStats.isDirectory() && targetStats?.isDirectory()) {
      await moveInto(source, target);
    } else {
      if (targetStats) await rm(target, { recursive: true, force: true });
      await rename(source, target);
    }
  }
  await rm(from, { recursive: true, force: true });
}

/**
 * Extracts `archive` (a tar.gz file, or the whole archive in memory) into `destination` (created
 * if missing), refusing it if one entry is unsafe: a refused archive leaves nothing behind. A small
 * archive in memory is validated whole, then written with synchronous calls (a tenth of the time
 * of the thread pool's round trips for work this small); any other goes through ArchiveExtractor.
 */
export async function unpackArchive(
  archive: string | Buffer,
  destination: string,
  artifact: string,
): Promise<void> {
  if (typeof archive !== "string" && validateArchiveBuffer(archive, artifact) <= SYNC_UNPACK_ENTRIES) {
    unpackSmall(archive, destination, artifact);
    return;
  }
  const extractor = await ArchiveExtractor.open(destination, artifact);
  try {
    if (typeof archive === "string") {
      for await (const chunk of createReadStream(archive, { highWaterMark: 1024 * 1024 })) {
        await extractor.write(chunk as Buffer);
      }
    } else {
      await extractor.write(archive);
    }
  } catch (error) {
    await extractor.discard();
    throw error;
  }
  await extractor.finish();
}

/** Writes a validated archive in memory with synchronous calls. */
function unpackSmall(archive: Buffer, destination: string, artifact: string): void {
  mkdirSync(destination, { recursive: true });
  let failure: unknown;
  try {
    const unpack = extract({
      cwd: destination,
      strict: true,
      preserveOwner: false,
      preservePaths: false,
      unlink: false,
      sync: true,
      filter: (_path: string, entry: ReadEntry | Stats) => {
        if ("mode" in entry && typeof entry.mode === "number") entry.mode &= 0o777;
        return true;
      },
    });
    unpack.on("error", (error: unknown) => (failure ??= error));
    unpack.end(archive);
  } catch (error) {
    failure ??= error;
  }
  if (failure === undefined) return;
  if (failure instanceof ArtifactError) throw failure;
  const code = (failure as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    throw new ArtifactError("SystemUnavailable", `artifact ${artifact}: no space left to unpack it`);
  }
  refuse(`artifact ${artifact} could not be unpacked into ${destination}: ${(failure as Error).message}`);
}
