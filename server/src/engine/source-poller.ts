import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { DataSource } from "typeorm";
import type { Logger } from "../logger";
import { queryReturning } from "../persistence/returning";
import type { ExecutionEngine } from "./execution-engine";
import { Periodic } from "./periodic";

const run = promisify(execFile);

/** How often due polls are looked for, and how often the list follows the pipelines' documents. */
const TICK_MS = 1000;
const SYNC_MS = 15_000;
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
 * Git sources with `PollIntervalSeconds` (and DetectChanges not false) are polled: when the head
 * of the branch moves, an execution starts with trigger PollForSourceChanges and that revision.
 * The first look only records the head (creating the pipeline started an execution already).
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

  /** Makes source_polls list exactly the polling Git sources of the current documents. */
  async sync(): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`
        CREATE TEMP TABLE wanted ON COMMIT DROP AS
        SELECT p.id AS pipeline_id, a->>'name' AS action_name,
               a->'configuration'->>'Repository' AS repository, a->'configuration'->>'Branch' AS branch,
               (a->'configuration'->>'PollIntervalSeconds')::int AS interval_seconds
          FROM pipelines p, json_array_elements(p.document->'stages') s, json_array_elements(s->'actions') a
         WHERE a->'actionTypeId'->>'category' = 'Source' AND a->'actionTypeId'->>'owner' = 'Sluice'
           AND a->'actionTypeId'->>'provider' = 'Git'
           AND a->'configuration'->>'PollIntervalSeconds' ~ '^[0-9]{1,6}$'
           AND (a->'configuration'->>'PollIntervalSeconds')::int >= 1
           AND coalesce(lower(a->'configuration'->>'DetectChanges'), 'true') <> 'false'
           AND a->'configuration'->>'Repository' IS NOT NULL AND a->'configuration'->>'Branch' IS NOT NULL`);
      await m.query(`
        DELETE FROM source_polls sp WHERE NOT EXISTS (
          SELECT 1 FROM wanted w WHERE w.pipeline_id = sp.pipeline_id AND w.action_name = sp.action_name)`);
      // A changed repository or branch starts over: its first look only records the head.
      await m.query(`
        INSERT INTO source_polls (pipeline_id, action_name, repository, branch, interval_seconds)
        SELECT pipeline_id, action_name, repository, branch, interval_seconds FROM wanted
        ON CONFLICT (pipeline_id, action_name) DO UPDATE SET
          interval_seconds = EXCLUDED.interval_seconds,
          last_revision = CASE WHEN source_polls.repository = EXCLUDED.repository
                                AND source_polls.branch = EXCLUDED.branch
                               THEN source_polls.last_revision END,
          repository = EXCLUDED.repository, branch = EXCLUDED.branch`);
    });
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
    if (row.lastRevision !== null) {
      const pipeline: Array<{ name: string }> = await this.db.query(
        `SELECT name FROM pipelines WHERE id = $1`,
        [row.pipelineId],
      );
      if (!pipeline[0]) return;
      await this.engine.releaseChange({
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
