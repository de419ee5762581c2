/**
 * Making and removing job workspaces. A workspace is a fresh directory; most jobs leave a handful
 * of entries in it, which synchronous calls make and remove in a fraction of the time (and CPU)
 * that the thread pool's round trips take. A large tree is not removed synchronously, so that it cannot
 * block the agent's event loop: after a bounded number of entries the rest goes to fs.rm.
 */
import fs from "node:fs";
import path from "node:path";
import type { JobUser } from "../exec/job-users";

/** Entries removed synchronously before the rest of a workspace is left to fs.rm. */
const SYNC_REMOVE_BUDGET = 256;

/**
 * `mkdtemp(<workDir>/<prefix>XXXXXX)` (making the work directory again if it was removed), with
 * the directories every job ends up creating already there: `subdirectories`, relative to it.
 * Synchronous calls: for a few directories they take a fifth of the CPU of the thread pool's
 * round trips (Node's asynchronous recursive mkdir is particularly dear).
 *
 * The workspace is mode 0700 (mkdtemp's); with a `user`, it and everything made in it belong to
 * that user, so that only the job (and the agent, root) can enter it.
 */
export function makeWorkspaceSync(
  workDir: string,
  prefix: string,
  subdirectories: readonly string[],
  user?: JobUser,
): string {
  const template = path.join(workDir, prefix);
  let dir: string;
  try {
    dir = fs.mkdtempSync(template);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    prepareWorkDir(workDir, user !== undefined);
    dir = fs.mkdtempSync(template);
  }
  const made = new Set<string>();
  for (const sub of subdirectories) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
    const segments = sub.split(path.sep).filter((s) => s !== "");
    for (let i = 1; i <= segments.length; i++) made.add(path.join(dir, ...segments.slice(0, i)));
  }
  if (user) {
    fs.chownSync(dir, user.uid, user.gid);
    for (const p of made) fs.lchownSync(p, user.uid, user.gid);
  }
  return dir;
}

/**
 * Makes the work directory. With jobs that run as other users it is 0711, owned by the agent:
 * they can enter their own workspace (a name they are told) but not list the others. Throws when
 * a job user could not reach it (a parent directory closed to others), saying which.
 */
export function prepareWorkDir(workDir: string, forOtherUsers: boolean): void {
  fs.mkdirSync(workDir, { recursive: true, mode: forOtherUsers ? 0o711 : 0o777 });
  if (!forOtherUsers) return;
  const own = fs.lstatSync(workDir);
  // A directory others can write to (/tmp itself) or that another user owns is not the agent's
  // to close, and one where others could plant or swap workspaces.
  if (!own.isDirectory() || own.uid !== process.getuid?.() || (own.mode & 0o022) !== 0) {
    throw new Error(
      `the work directory ${workDir} must be a directory of the agent's own that no other user can write to (choose another --work-dir)`,
    );
  }
  fs.chmodSync(workDir, 0o711);
  for (let dir = path.dirname(workDir); ; dir = path.dirname(dir)) {
    const stats = fs.statSync(dir);
    if ((stats.mode & 0o001) === 0) {
      throw new Error(
        `jobs run as other users and cannot reach the work directory ${workDir}: ${dir} is closed to others (chmod o+x ${dir}, or choose another --work-dir)`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
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
