/**
 * Artifact archives: gzip-compressed POSIX tar (PROTOCOL.md section 9). Unpacking treats every
 * archive as hostile: all entries are checked before the first byte is written, so a refused
 * archive leaves no trace, and nothing is ever written outside the destination.
 */
import { mkdirSync, type Stats } from "node:fs";
import { lstat, mkdir, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { Pack, extract, list, type ReadEntry } from "tar";
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

  add(entry: EntryInfo): void {
    const what = `artifact ${this.artifact}: entry ${JSON.stringify(entry.path)}`;
    const segments = safeSegments(entry.path);
    if (segments === null) {
      refuse(`${what} is refused: its path is absolute or contains a ".." segment`);
    }
    const key = segments.join("/");
    if (key === "") {
      if (entry.type === "Directory") return;
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

/**
 * Lists what `spec` puts in the archive, sorted, directories expanded, and validated as the
 * extractor will: a link pointing outside fails the upload, not the job that downloads it later.
 */
export async function collectEntries(artifact: string, spec: OutputSpec): Promise<string[]> {
  const root = spec.root;
  const validator = new EntryValidator(artifact);
  const out: string[] = [];
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
  return out;
}

/**
 * Starts packing `entries` (from `collectEntries`) under `root` as tar.gz. Directories are not
 * recursed again: the list is complete and sorted, which keeps archives reproducible.
 */
export function createPackStream(root: string, entries: readonly string[], compressionLevel?: number): Pack {
  const pack = new Pack({
    cwd: root,
    gzip: compressionLevel === undefined ? true : { level: compressionLevel },
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

/**
 * Extracts `archive` (a tar.gz file, or the whole archive in memory) into `destination` (created
 * if missing) after `validateArchive` accepted every entry. Owners are never restored and modes
 * are reduced to permission bits, so an archive cannot plant set-uid files even when the agent
 * runs as root.
 */
export async function unpackArchive(
  archive: string | Buffer,
  destination: string,
  artifact: string,
): Promise<void> {
  const entries = await validateArchive(archive, artifact);
  const options = {
    cwd: destination,
    strict: true,
    preserveOwner: false,
    preservePaths: false,
    unlink: false,
    filter: (_path: string, entry: ReadEntry | Stats) => {
      if ("mode" in entry && typeof entry.mode === "number") entry.mode &= 0o777;
      return true;
    },
  };
  // A few files from memory are written with synchronous calls, without the thread pool's
  // round trips (a tenth of the time for work this small).
  const sync = typeof archive !== "string" && entries <= SYNC_UNPACK_ENTRIES;
  if (sync) mkdirSync(destination, { recursive: true });
  else await mkdir(destination, { recursive: true });
  try {
    if (typeof archive === "string") {
      await extract({ ...options, file: archive });
    } else if (sync) {
      let failure: unknown;
      const unpack = extract({ ...options, sync: true });
      unpack.on("error", (error: unknown) => (failure ??= error));
      unpack.end(archive);
      if (failure !== undefined) throw failure;
    } else {
      const unpack = extract(options);
      await new Promise<void>((resolve, reject) => {
        unpack.on("error", reject);
        unpack.on("close", () => resolve());
        unpack.end(archive);
      });
    }
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      throw new ArtifactError("SystemUnavailable", `artifact ${artifact}: no space left to unpack it`);
    }
    refuse(`artifact ${artifact} could not be unpacked into ${destination}: ${(error as Error).message}`);
  }
}
