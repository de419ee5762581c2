import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { ExecutionView } from "../domain/execution";
import type { Logger } from "../logger";
import type { PollRow, SourcePollStore } from "../persistence/source-poll-store";
import type { ExecutionEngine } from "./execution-engine";
import { Periodic } from "./periodic";

const run = promisify(execFile);

/**
 * How often due polls are looked for, and how often the whole list is matched with the documents
 * (each definition change already updates its pipeline's rows in its own transaction).
 */
const TICK_MS = 1000;
const SYNC_MS = 15_000;
/** How long a first look waits for a new pipeline's first execution to exist. */
const FIRST_EXECUTION_GRACE_SECONDS = 60;
const LS_REMOTE_TIMEOUT_MS = 20_000;
const BATCH = 8;

/** The commit a branch of a repository points to, as `git ls-remote` says; null when there is no such branch. */
export async function branchHead(repository: string, branch: string): Promise<string | null> {
  const { stdout } = await run("git", ["ls-remote", "--heads", "--", repository, `refs/heads/${branch}`], {
    timeout: LS_REMOTE_TIMEOUT_MS,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      GIT_TERMINAL_PROMPT: "0",
    },
  });
  const line = stdout.split("\n").find((l) => l.endsWith(`\trefs/heads/${branch}`));
  return line ? line.split("\t")[0]! : null;
}

/** What a first look compares the head with. */
type Baseline = { kind: "revision"; revision: string } | { kind: "none" } | { kind: "pending" };

const FINAL = new Set(["Stopped", "Succeeded", "Superseded", "Failed", "Cancelled"]);

/**
 * The revision of `actionName` the latest execution used: the one it was started with, or the
 * CommitId its source action reported. "pending" while that execution has not run the action yet
 * (or a new pipeline's first execution is not there yet); "none" when it ended without it.
 */
export function baselineOf(
  latest: { status: string; view: ExecutionView } | null,
  actionName: string,
  pipelineAgeSeconds: number,
): Baseline {
  if (!latest)
    return pipelineAgeSeconds < FIRST_EXECUTION_GRACE_SECONDS ? { kind: "pending" } : { kind: "none" };
  const given = latest.view.sourceRevisions.find((r) => r.actionName === actionName);
  if (given) return { kind: "revision", revision: given.revisionId };
  for (const stage of latest.view.stages) {
    const succeeded = stage.actions
      .find((a) => a.actionName === actionName)
      ?.attempts.findLast((a) => a.status === "Succeeded");
    if (!succeeded) continue;
    const commit = succeeded.outputVariables.CommitId;
    return commit ? { kind: "revision", revision: commit } : { kind: "none" };
  }
  return FINAL.has(latest.status) ? { kind: "none" } : { kind: "pending" };
}

/**
 * Git sources with `PollIntervalSeconds` (and DetectChanges not false) are polled: when the head
 * of the branch moves, an execution starts with trigger PollForSourceChanges and that revision.
 * The first look (a new source, or a new repository or branch) compares the head with the
 * revision the latest execution used (baselineOf): a push made right after the document was saved
 * is not taken for the state the pipeline already ran.
 *
 * Only `git ls-remote` runs here, never anything of the pipeline's: reading a branch head is how
 * the server learns that there is work, the work itself runs on agents. Several server copies
 * share the polls: each claims due rows with SKIP LOCKED and moves their next time on.
 */
export class SourcePoller extends Periodic {
  private lastSync = 0;

  constructor(
    private readonly store: SourcePollStore,
    private readonly engine: ExecutionEngine,
    private readonly logger: Logger,
    private readonly head: (repository: string, branch: string) => Promise<string | null> = branchHead,
  ) {
    super(TICK_MS);
  }

  /** A document changed (here): follow it on the next round rather than within SYNC_MS. */
  markDirty(): void {
    this.lastSync = 0;
  }

  /** One round: follow the documents now and then, then poll what is due. */
  protected async round(): Promise<void> {
    try {
      if (Date.now() - this.lastSync >= SYNC_MS) {
        await this.sync();
        this.lastSync = Date.now();
      }
      for (const row of await this.store.claimDue(BATCH)) await this.poll(row);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "source polling failed; retrying");
    }
  }

  /** Makes source_polls list exactly the polling Git sources of the current documents (a safety net). */
  async sync(): Promise<void> {
    await this.store.followAll();
  }

  private async baseline(row: PollRow): Promise<Baseline> {
    const { latest, pipelineAgeSeconds } = await this.store.latestExecution(row.pipelineId);
    return baselineOf(latest, row.actionName, pipelineAgeSeconds);
  }

  private async poll(row: PollRow): Promise<void> {
    let head: string | null;
    try {
      head = await this.head(row.repository, row.branch);
    } catch (error) {
      const message = (error as Error).message.split("\n")[0]!.slice(0, 500);
      await this.store.recordError(row, message);
      this.logger.warn({ repository: row.repository, err: message }, "polling a source failed");
      return;
    }
    if (head === null || head === row.lastRevision) return;
    let start = row.lastRevision !== null;
    if (!start) {
      const baseline = await this.baseline(row);
      if (baseline.kind === "pending") return; // looked at again after the interval
      start = baseline.kind === "revision" && baseline.revision !== head;
    }
    if (start) {
      const pipeline = await this.store.pipelineName(row.pipelineId);
      if (pipeline === null) return;
      await this.engine.releaseChange({
        account: pipeline.account,
        pipelineName: pipeline.name,
        sourceRevisions: [
          { actionName: row.actionName, revisionId: head, revisionSummary: null, revisionUrl: null },
        ],
        // Two copies that both saw the move start one execution.
        clientRequestToken: `poll:${row.actionName}:${head}`.slice(0, 128),
        trigger: {
          triggerType: "PollForSourceChanges",
          triggerDetail: `${row.actionName}: ${row.branch} moved to ${head.slice(0, 12)}`,
        },
      });
      this.logger.info({ pipeline: pipeline.name, action: row.actionName, head }, "source changed");
    }
    await this.store.recordRevision(row, head);
  }
}
