/** Small file-tree helpers shared by the artifact and provider tests. */
import { createWriteStream } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DEFAULT_COMPRESSION_LEVEL, collectEntries, createArchiveStream } from "../../src/artifacts/archive";

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `sluice-${label}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every entry under `root`: "file:<content>", "dir", "link:<target>", with "+x" for executables. */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const child = rel === "" ? name : `${rel}/${name}`;
      const full = path.join(root, child);
      const stats = await lstat(full);
      if (stats.isSymbolicLink()) result[child] = `link:${await readlink(full)}`;
      else if (stats.isDirectory()) {
        result[child] = "dir";
        await walk(child);
      } else {
        const exec = stats.mode & 0o100 ? "+x" : "";
        result[child] = `file${exec}:${await readFile(full, "utf8")}`;
      }
    }
  };
  await walk("");
  return result;
}

/** Packs like an upload of compressible data does, into a local file. */
export async function packToFile(artifact: string, root: string, files: string[] | undefined, file: string) {
  const { paths } = await collectEntries(artifact, { root, files });
  await pipeline(
    Readable.from(createArchiveStream(root, paths, DEFAULT_COMPRESSION_LEVEL)),
    createWriteStream(file),
  );
}
