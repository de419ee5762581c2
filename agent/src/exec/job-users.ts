/**
 * Who a job's processes run as. An agent that runs as root never runs a job as root: each job
 * gets an unprivileged user of its own, so that it cannot read the agent's token (its environment,
 * its token file), another job's workspace, or any file only root may read.
 *
 * - A uid range (`--job-uid-range 60000-60999`, the default when the agent is root): each job
 *   takes a free uid of the range (its gid is the same number). The numbers need no /etc/passwd
 *   entry. A uid is claimed host-wide with a lock directory, so that two agents on one host never
 *   run jobs under the same uid at once. After the job's commands ended, every process left
 *   running under its uid is killed (`kill -KILL -1` run as that uid), so that nothing of the job
 *   races the agent while it reads the job's outputs, or outlives the job.
 * - A named user (`--job-user builder`): every job runs as that user, with its home directory and
 *   its primary group. Concurrent jobs share the user, so they can read each other's workspaces:
 *   use it with --concurrency 1, or prefer the uid range.
 * - None (the agent is not root, or `--no-job-isolation`): jobs run as the agent's own user.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** The unprivileged identity one job runs as. */
export interface JobUser {
  uid: number;
  gid: number;
  /** USER and LOGNAME of its processes. */
  name: string;
  /** Its home directory; absent: a directory of the job's own workspace. */
  home?: string;
  /**
   * True when no other job runs as this uid: every process of it is then killed after each command
   * of the job ends (`killAllOf`), including those that left the command's process group.
   */
  exclusive?: boolean;
}

export type JobIsolation =
  | { mode: "uid-range"; from: number; to: number; lockDir?: string }
  | { mode: "user"; user: string }
  | { mode: "none"; reason: "not-root" | "disabled" };

export const DEFAULT_JOB_UID_RANGE = { from: 60000, to: 60999 } as const;
/** Where uids of the range are claimed, shared by every agent of the host (tmpfs on most). */
export const DEFAULT_UID_LOCK_DIR = "/run/sluice-agent/job-uids";

/** `60000-60999` → the range, or an error message. */
export function parseUidRange(text: string): { from: number; to: number } | string {
  const match = /^\s*(\d{1,10})\s*-\s*(\d{1,10})\s*$/.exec(text);
  if (!match) return "must be a range of uids such as 60000-60999";
  const from = Number(match[1]);
  const to = Number(match[2]);
  if (from < 1000) return "must start at 1000 or above (lower uids belong to the system)";
  if (to > 4_294_967_294 || from > to) return "must be from a low uid to a higher one, below 4294967295";
  return { from, to };
}

export function runsAsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Hands out and takes back the users jobs run as. */
export interface JobUsers {
  /** How jobs are isolated, for the agent's start-up log. */
  readonly description: string;
  /** A user for one job; throws when none is free. */
  acquire(): JobUser;
  /** The job is over and its workspace removed: `user` may serve another job. */
  release(user: JobUser): void;
}

/** The users jobs run as under `isolation`, or null when they run as the agent's own user. */
export function createJobUsers(isolation: JobIsolation): JobUsers | null {
  if (isolation.mode === "none") return null;
  if (isolation.mode === "user") return new NamedJobUser(lookUpUser(isolation.user));
  return new UidRange(isolation.from, isolation.to, isolation.lockDir ?? DEFAULT_UID_LOCK_DIR);
}

/** `getent passwd <name>` (NSS, so LDAP users too) → the user; throws with a clear message. */
export function lookUpUser(name: string): JobUser {
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", name], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    throw new Error(`--job-user: there is no user ${JSON.stringify(name)} on this host`);
  }
  const fields = line.trim().split("\n")[0]!.split(":");
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`--job-user: cannot read the passwd entry of ${JSON.stringify(name)}`);
  }
  if (uid === 0 || gid === 0) throw new Error(`--job-user: ${name} is root; jobs must not run as root`);
  return { uid, gid, name: fields[0]!, home: fields[5] || undefined };
}

class NamedJobUser implements JobUsers {
  readonly description: string;
  constructor(private readonly user: JobUser) {
    this.description = `as user ${user.name} (uid ${user.uid})`;
  }
  acquire(): JobUser {
    return this.user;
  }
  release(): void {}
}

class UidRange implements JobUsers {
  readonly description: string;
  private readonly held = new Set<number>();
  private cursor: number;

  constructor(
    private readonly from: number,
    private readonly to: number,
    private readonly lockDir: string,
  ) {
    this.description = `as uids ${from}-${to} (one per job, claimed in ${lockDir})`;
    prepareLockDir(lockDir);
    // Start somewhere else than the other agents of the host, which makes claims meet less often.
    this.cursor = from + (process.pid % (to - from + 1));
  }

  acquire(): JobUser {
    const size = this.to - this.from + 1;
    for (let tried = 0; tried < size; tried++) {
      const uid = this.from + ((this.cursor - this.from + tried) % size);
      if (this.held.has(uid) || !this.claim(uid)) continue;
      this.held.add(uid);
      // Round-robin: the uid a job just left is the last to be used again.
      this.cursor = uid + 1 > this.to ? this.from : uid + 1;
      return { uid, gid: uid, name: `sluice-job-${uid}`, exclusive: true };
    }
    throw new Error(`no free uid in the job uid range ${this.from}-${this.to}`);
  }

  release(user: JobUser): void {
    if (!this.held.delete(user.uid)) return;
    fs.rmSync(path.join(this.lockDir, String(user.uid)), { recursive: true, force: true });
  }

  /** Claims `uid` host-wide: a directory made atomically; a claim whose agent is gone is taken over. */
  private claim(uid: number): boolean {
    const dir = path.join(this.lockDir, String(uid));
    const owner = `${process.pid} ${startTime(process.pid)}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.mkdirSync(dir, { mode: 0o700 });
        fs.writeFileSync(path.join(dir, "owner"), owner);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      let recorded: string;
      try {
        recorded = fs.readFileSync(path.join(dir, "owner"), "utf8").trim();
      } catch {
        // Being written by its claimer right now, or left half-made: not ours to judge yet.
        return false;
      }
      if (ownerAlive(recorded)) return false;
      // Its agent is gone (crashed, killed): whatever the uid still runs is ended before it is
      // reused. Agents that find the same dead claim at once must not both take it (the second's
      // kill would end the first's new job): the takeover holds a lock of its own, and looks again.
      return this.takeOver(uid, dir, owner);
    }
    return false;
  }

  private takeOver(uid: number, dir: string, owner: string): boolean {
    const lock = `${dir}.takeover`;
    try {
      fs.mkdirSync(lock, { mode: 0o700 });
    } catch {
      return false; // another agent is taking it over
    }
    try {
      let recorded = "";
      try {
        recorded = fs.readFileSync(path.join(dir, "owner"), "utf8").trim();
      } catch {
        // Released, or claimed anew and being written, meanwhile: not this agent's to take.
      }
      if (!recorded || ownerAlive(recorded)) return false;
      killAllOfSync(uid);
      const staged = path.join(dir, `owner.${process.pid}`);
      fs.writeFileSync(staged, owner);
      fs.renameSync(staged, path.join(dir, "owner"));
      return true;
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** Whether the agent a claim's `owner` file names (`<pid> <start time>`) still runs. */
function ownerAlive(recorded: string): boolean {
  const [pid, started] = recorded.split(" ");
  return pid !== undefined && started !== undefined && startTime(Number(pid)) === started;
}

/** The start time of a process (its 22nd stat field), "" when it does not exist: pids are reused. */
function startTime(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 0) return "";
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

/** The lock directory, made root-only; refused when someone else could have planted it. */
function prepareLockDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stats = fs.lstatSync(dir);
  if (!stats.isDirectory() || stats.uid !== 0 || (stats.mode & 0o022) !== 0) {
    throw new Error(
      `the job uid lock directory ${dir} must be a directory owned by root, writable by root only`,
    );
  }
}

const KILL_ALL = "kill -s KILL -- -1 2>/dev/null; exit 0";

/** Sends SIGKILL to every process of `user`'s uid (kill(-1) spares only its caller). */
export function killAllOf(user: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", KILL_ALL], {
      uid: user.uid,
      gid: user.gid,
      stdio: "ignore",
      env: { PATH: "/usr/bin:/bin" },
    });
    child.once("error", () => resolve());
    child.once("exit", () => resolve());
  });
}

function killAllOfSync(uid: number): void {
  try {
    execFileSync("/bin/sh", ["-c", KILL_ALL], {
      uid,
      gid: uid,
      stdio: "ignore",
      env: { PATH: "/usr/bin:/bin" },
    });
  } catch {
    // Nothing to kill, or no shell: the claim goes ahead either way.
  }
}

/**
 * Gives `target` (a directory or file the agent made in a job's workspace) to `user`; a directory
 * with everything in it. Links are changed themselves, never followed. Only for trees no job
 * process can touch yet (the agent made them and the job has not started).
 */
export async function giveTree(target: string, user: JobUser): Promise<void> {
  const stats = await fs.promises.lstat(target);
  await fs.promises.lchown(target, user.uid, user.gid);
  if (!stats.isDirectory()) return;
  for (const entry of await fs.promises.readdir(target, { withFileTypes: true })) {
    const child = path.join(target, entry.name);
    if (entry.isDirectory()) await giveTree(child, user);
    else await fs.promises.lchown(child, user.uid, user.gid);
  }
}

/** giveTree for the few paths the agent makes itself: synchronously, each path alone. */
export function givePaths(paths: readonly string[], user: JobUser | undefined): void {
  if (!user) return;
  for (const p of paths) fs.lchownSync(p, user.uid, user.gid);
}

/**
 * The real path of `target`, or null when it resolves outside `root` (a link the job planted to
 * make the agent, which reads as root, read or pack something that is not the job's); `target`
 * itself when it does not exist. Only sound once no process of the job can change the tree.
 */
export async function realPathInside(root: string, target: string): Promise<string | null> {
  let realRoot: string;
  let real: string;
  try {
    realRoot = await fs.promises.realpath(root);
    real = await fs.promises.realpath(target);
  } catch (error) {
    // Missing: whoever reads it next finds it missing too, and says so.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return target;
    return null;
  }
  return real === realRoot || real.startsWith(realRoot + path.sep) ? real : null;
}
