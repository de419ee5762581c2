/**
 * Job processes must not outlive their agent. Each job command runs in a process group of its
 * own (process.ts), which the agent kills when the job ends or is cancelled; but an agent that
 * is killed outright (SIGKILL, the OOM killer, a crash of Node itself) can kill nothing, and its
 * jobs would go on running — next to the retry another agent starts.
 *
 * The reaper is a small shell process started with the agent, outside its process group, that
 * reads the agent's job groups from a pipe ("+<pgid>" when one starts, "-<pgid>" when it ended).
 * When the pipe closes — however the agent ended — it sends SIGTERM to every group still listed,
 * then SIGKILL after the cancel grace (PROTOCOL.md 6.3), and exits. It ignores the signals a
 * terminal or a service manager sends to the agent's group, so that it is still there to do so.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { TIMINGS } from "@sluice/protocol";

const SCRIPT = String.raw`
trap '' INT TERM HUP QUIT
groups=' '
while IFS= read -r line; do
  id=${"$"}{line#?}
  case $id in ''|*[!0-9]*) continue ;; esac
  case $line in
    +*) groups="$groups$id " ;;
    -*) kept=' '; for g in $groups; do [ "$g" = "$id" ] || kept="$kept$g "; done; groups=$kept ;;
  esac
done
[ "$groups" = ' ' ] && exit 0
for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done
sleep "$1"
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
exit 0
`;

export class OrphanReaper {
  private failed = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly onError: (error: Error) => void,
  ) {
    child.stdin!.on("error", (error) => this.fail(error));
    child.once("error", (error) => this.fail(error));
  }

  /** Starts the reaper; `onError` hears once that it is gone (jobs are then not reaped). */
  static start(
    onError: (error: Error) => void,
    graceSeconds: number = TIMINGS.cancelGraceSeconds,
  ): OrphanReaper {
    const child = spawn("/bin/sh", ["-c", SCRIPT, "sluice-reaper", String(graceSeconds)], {
      // Its own process group: a Ctrl-C or a service manager's signal to the agent's group
      // must leave it to outlive the agent (it ignores them anyway).
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return new OrphanReaper(child, onError);
  }

  /** The reaper's pid (tests). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** A job's process group started. */
  track(pgid: number): void {
    this.send(`+${pgid}\n`);
  }

  /** A job's process group ended (and was killed): nothing to reap. */
  untrack(pgid: number): void {
    this.send(`-${pgid}\n`);
  }

  /** The agent is stopping on its own, its jobs ended: the reaper exits. */
  close(): void {
    if (!this.failed) this.child.stdin!.end();
  }

  private send(line: string): void {
    if (this.failed || !this.child.stdin!.writable) return;
    this.child.stdin!.write(line);
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(error);
  }
}

let installed: OrphanReaper | null = null;

/** The reaper every job process of this agent process is reported to (null: none). */
export function installReaper(reaper: OrphanReaper | null): void {
  installed = reaper;
}

export function currentReaper(): OrphanReaper | null {
  return installed;
}
