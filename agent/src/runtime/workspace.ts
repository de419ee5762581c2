/**
 * Making and removing job workspaces. A workspace is a fresh directory; most jobs leave a handful
 * of entries in it, which synchronous calls make and remove in a fraction of the time (and CPU)
 * that the thread pool's round trips take. A large tree is not removed synchronously, so that it cannot
 * block the agent's event loop: after a bounded number of entries the rest goes to fs.rm.
 */
import fs from "node:fs";
import path from "node:path";

/** Entries removed synchronously before the rest of a workspace is left to fs.rm. */
const SYNC_REMOVE_BUDGET = 256;

/**
 * `mkdtemp(<workDir>/<prefix>XXXXXX)` (making the work directory again if it was removed), with
 * the directories every job ends up creating already there: `subdirectories`, relative to it.
 * Synchronous calls: for a few directories they take a fifth of the CPU of the thread pool's
 * round trips (Node's asynchronous recursive mkdir is particularly dear).
 */
export function makeWorkspaceSync(
  workDir: string,
  prefix: string,
  subdirectories: readonly string[],
): string {
  const template = path.join(workDir, prefix);
  let dir: string;
  try {
    dir = fs.mkdtempSync(template);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    fs.mkdirSync(workDir, { recursive: true });
    dir = fs.mkdtempSync(template);
  }
  for (const sub of subdirectories) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  return dir;
}

/** Removes `dir` and everything in it (links are removed, never followed). */
export async function removeTree(dir: string): Promise<void> {
  const budget = { left: SYNC_REMOVE_BUDGET };
  try {
    if (removeSync(dir, budget)) return;
  } catch {
    // Whatever stopped the quick removal (permissions, a race), fs.rm has the last word.
  }
  await fs.promises.rm(dir, { recursive: true, force: true });
}

/** True when `dir` is gone; false when the budget ran out first. */
function removeSync(dir: string, budget: { left: number }): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
  for (const entry of entries) {
    if (--budget.left < 0) return false;
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!removeSync(child, budget)) return false;
    } else {
      fs.unlinkSync(child);
    }
  }
  fs.rmdirSync(dir);
  return true;
}
