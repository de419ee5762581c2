/**
 * Keeps the agent's token out of what other processes of the host can read about the agent.
 *
 * - /proc/<pid>/cmdline is readable by every user: a `--token` given on the command line is
 *   overwritten by setting the process title (libuv writes the title over the original argv).
 * - /proc/<pid>/environ shows the environment the process started with, whatever it later
 *   deletes from process.env: it is read from the process's own memory, which the agent
 *   overwrites through /proc/self/mem. Only processes of the agent's uid (or root) can read
 *   it at all; jobs of a root agent run under other uids.
 * - A root agent makes itself non-dumpable (no core file with the token, and /proc entries that
 *   need CAP_SYS_PTRACE even for its own uid): the kernel resets the dumpable flag to
 *   fs.suid_dumpable (0 unless changed) whenever the effective gid changes, which root can do.
 *
 * None of this reaches a wrapper that started the agent with the token in its own environment
 * (a shell, npm): give the token in a file (--token-file) instead.
 */
import fs from "node:fs";

/** Overwrites the value of each variable in `names` in the initial environment; returns how many. */
export function scrubInitialEnvironment(names: readonly string[]): number {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  // Fields after the command name (which may hold spaces) start with field 3, the state.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const start = Number(fields[50 - 3]);
  const end = Number(fields[51 - 3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) return 0;
  const fd = fs.openSync("/proc/self/mem", "r+");
  try {
    const region = Buffer.alloc(end - start);
    fs.readSync(fd, region, 0, region.length, start);
    let scrubbed = 0;
    for (const name of names) {
      const key = Buffer.from(`${name}=`);
      for (let at = region.indexOf(key); at !== -1; at = region.indexOf(key, at + key.length)) {
        if (at !== 0 && region[at - 1] !== 0) continue;
        let stop = region.indexOf(0, at);
        if (stop === -1) stop = region.length;
        const blank = Buffer.alloc(stop - at - key.length);
        fs.writeSync(fd, blank, 0, blank.length, start + at + key.length);
        scrubbed += 1;
      }
    }
    return scrubbed;
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces the command line others see (/proc/<pid>/cmdline, ps) with `title`. */
export function hideCommandLine(title: string): void {
  process.title = title;
}

/** A root process becomes non-dumpable; returns false when it is not root (nothing changed). */
export function makeNonDumpable(): boolean {
  const { getegid, setegid } = process;
  if (!getegid || !setegid || process.geteuid?.() !== 0) return false;
  const egid = getegid();
  // Any change of the effective gid resets the dumpable flag; the gid is put back at once.
  setegid(egid === 65534 ? 65533 : 65534);
  setegid(egid);
  return true;
}
