import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { DataSource, EntityManager } from "typeorm";
import type { ExecutionView } from "../domain/execution";
import type { Logger } from "../logger";
import { queryReturning } from "../persistence/returning";
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

export interface PollRow {
  pipelineId: string;
  actionName: string;
  repository: string;
  branch: string;
  intervalSeconds: number;
  lastRevision: string | null;
}

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

/**
 * The source_polls rows of one pipeline (`pipelineId` given, inside the transaction that writes its
 * document) or of all, in one statement (one snapshot: a row committed meanwhile is not deleted).
 * A new row, or one whose repository or branch changed, is due at once and has no last revision:
 * its first look compares the head with the revision the latest execution used (`poll`).
 */
function followSql(onePipeline: boolean): string {
  const where = onePipeline ? "p.id = $1 AND" : "";
  const mine = onePipeline ? "sp.pipeline_id = $1 AND" : "";
  return `
    WITH wanted AS (
      SELECT p.id AS pipeline_id, a->>'name' AS action_name,
             a->'configuration'->>'Repository' AS repository, a->'configuration'->>'Branch' AS branch,
             (a->'configuration'->>'PollIntervalSeconds')::int AS interval_seconds
        FROM pipelines p, json_array_elements(p.document->'stages') s, json_array_elements(s->'actions') a
       WHERE ${where} a->'actionTypeId'->>'category' = 'Source' AND a->'actionTypeId'->>'owner' = 'Sluice'
         AND a->'actionTypeId'->>'provider' = 'Git'
         AND a->'configuration'->>'PollIntervalSeconds' ~ '^[0-9]{1,6}$'
         AND (a->'configuration'->>'PollIntervalSeconds')::int >= 1
         AND coalesce(lower(a->'configuration'->>'DetectChanges'), 'true') <> 'false'
         AND a->'configuration'->>'Repository' IS NOT NULL AND a->'configuration'->>'Branch' IS NOT NULL),
    gone AS (
      DELETE FROM source_polls sp WHERE ${mine} NOT EXISTS (
        SELECT 1 FROM wanted w WHERE w.pipeline_id = sp.pipeline_id AND w.action_name = sp.action_name))
    INSERT INTO source_polls AS sp (pipeline_id, action_name, repository, branch, interval_seconds)
    SELECT pipeline_id, action_name, repository, branch, interval_seconds FROM wanted
    ON CONFLICT (pipeline_id, action_name) DO UPDATE SET
      interval_seconds = EXCLUDED.interval_seconds,
      last_revision = CASE WHEN sp.repository = EXCLUDED.repository AND sp.branch = EXCLUDED.branch
                           THEN sp.last_revision END,
      next_poll_at = CASE WHEN sp.repository = EXCLUDED.repository AND sp.branch = EXCLUDED.branch
                          THEN least(sp.next_poll_at, now() + make_interval(secs => EXCLUDED.interval_seconds))
                          ELSE now() END,
      repository = EXCLUDED.repository, branch = EXCLUDED.branch`;
}

/**
 * Makes the polls of a pipeline follow the document just written, in the transaction that wrote
 * it: every server copy polls a new or changed source from the moment the change commits.
 */
export async function followPipelineSources(m: EntityManager, pipelineId: string): Promise<void> {
  await m.query(followSql(true), [pipelineId]);
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
    private readonly db: DataSource,
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
      for (const row of await this.claimDue()) await this.poll(row);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "source polling failed; retrying");
    }
  }

  /** Makes source_polls list exactly the polling Git sources of the current documents (a safety net). */
  async sync(): Promise<void> {
    await this.db.query(followSql(false));
  }

  private async baseline(row: PollRow): Promise<Baseline> {
    const [latest]: Array<{ status: string; view: ExecutionView }> = await this.db.query(
      `SELECT status, view FROM pipeline_executions WHERE pipeline_id = $1 ORDER BY start_time DESC LIMIT 1`,
      [row.pipelineId],
    );
    const [pipeline]: Array<{ age: number }> = await this.db.query(
      `SELECT extract(epoch FROM now() - created_at)::float8 AS age FROM pipelines WHERE id = $1`,
      [row.pipelineId],
    );
    return baselineOf(latest ?? null, row.actionName, pipeline?.age ?? Infinity);
  }

  private async claimDue(): Promise<PollRow[]> {
    return queryReturning<PollRow>(
      this.db,
      `UPDATE source_polls sp SET next_poll_at = now() + make_interval(secs => sp.interval_seconds)
        WHERE (sp.pipeline_id, sp.action_name) IN (
          SELECT pipeline_id, action_name FROM source_polls WHERE next_poll_at <= now()
           ORDER BY next_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING sp.pipeline_id AS "pipelineId", sp.action_name AS "actionName", sp.repository,
                  sp.branch, sp.interval_seconds AS "intervalSeconds", sp.last_revision AS "lastRevision"`,
      [BATCH],
    );
  }

  private async poll(row: PollRow): Promise<void> {
    let head: string | null;
    try {
      head = await this.head(row.repository, row.branch);
    } catch (error) {
      const message = (error as Error).message.split("\n")[0]!.slice(0, 500);
      await this.db.query(
        `UPDATE source_polls SET last_error = $3 WHERE pipeline_id = $1 AND action_name = $2`,
        [row.pipelineId, row.actionName, message],
      );
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
      const pipeline: Array<{ account: string; name: string }> = await this.db.query(
        `SELECT account, name FROM pipelines WHERE id = $1`,
        [row.pipelineId],
      );
      if (!pipeline[0]) return;
      await this.engine.releaseChange({
        account: pipeline[0].account,
        pipelineName: pipeline[0].name,
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
      this.logger.info({ pipeline: pipeline[0].name, action: row.actionName, head }, "source changed");
    }
    await this.db.query(
      `UPDATE source_polls SET last_revision = $3, last_error = NULL WHERE pipeline_id = $1 AND action_name = $2`,
      [row.pipelineId, row.actionName, head],
    );
  }
}
