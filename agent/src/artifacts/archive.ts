/**
 * Artifact archives: gzip-compressed POSIX tar (PROTOCOL.md section 9). Unpacking treats every
 * archive as hostile: all entries are checked before the first byte is written, so a refused
 * archive leaves no trace, and nothing is ever written outside the destination.
 */
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

/** Reads every header of `archiveFile` (a tar.gz) and refuses the archive if one is unsafe. */
export async function validateArchive(archiveFile: string, artifact: string): Promise<void> {
  const validator = new EntryValidator(artifact);
  let refusal: unknown;
  try {
    await list({
      file: archiveFile,
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (refusal === undefined) {
          try {
            validator.add({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
          } catch (error) {
            refusal = error;
          }
        }
        entry.resume();
      },
    });
  } catch (error) {
    if (refusal !== undefined) throw refusal;
    refuse(`artifact ${artifact} is not a valid tar.gz archive: ${(error as Error).message}`);
  }
  if (refusal !== undefined) throw refusal;
  validator.finish();
}

/**
 * Extracts `archiveFile` into `destination` (created if missing) after `validateArchive` accepted
 * every entry. Owners are never restored and modes are reduced to permission bits, so an archive
 * cannot plant set-uid files even when the agent runs as root.
 */
export async function unpackArchive(
  archiveFile: string,
  destination: string,
  artifact: string,
): Promise<void> {
  await validateArchive(archiveFile, artifact);
  await mkdir(destination, { recursive: true });
  try {
    await extract({
      file: archiveFile,
      cwd: destination,
      strict: true,
      preserveOwner: false,
      preservePaths: false,
      unlink: false,
      filter: (_path, entry) => {
        if ("mode" in entry && typeof entry.mode === "number") entry.mode &= 0o777;
        return true;
      },
    });
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      throw new ArtifactError("SystemUnavailable", `artifact ${artifact}: no space left to unpack it`);
    }
    refuse(`artifact ${artifact} could not be unpacked into ${destination}: ${(error as Error).message}`);
  }
}
