import type { DataSource, EntityManager } from "typeorm";
import type { ExecutionView } from "../domain/execution";
import { queryReturning } from "./returning";

export interface PollRow {
  pipelineId: string;
  actionName: string;
  repository: string;
  branch: string;
  intervalSeconds: number;
  lastRevision: string | null;
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

/** `source_polls`: the Git sources the server polls, shared by server copies (engine/source-poller.ts). */
export class SourcePollStore {
  constructor(private readonly db: DataSource) {}

  /** Makes source_polls list exactly the polling Git sources of the current documents. */
  async followAll(): Promise<void> {
    await this.db.query(followSql(false));
  }

  /** The latest execution of the pipeline (null: none yet), and how old the pipeline is in seconds. */
  async latestExecution(
    pipelineId: string,
  ): Promise<{ latest: { status: string; view: ExecutionView } | null; pipelineAgeSeconds: number }> {
    const [latest]: Array<{ status: string; view: ExecutionView }> = await this.db.query(
      `SELECT status, view FROM pipeline_executions WHERE pipeline_id = $1 ORDER BY start_time DESC LIMIT 1`,
      [pipelineId],
    );
    const [pipeline]: Array<{ age: number }> = await this.db.query(
      `SELECT extract(epoch FROM now() - created_at)::float8 AS age FROM pipelines WHERE id = $1`,
      [pipelineId],
    );
    return { latest: latest ?? null, pipelineAgeSeconds: pipeline?.age ?? Infinity };
  }

  /** Up to `limit` due polls, each moved to its next time as it is claimed (SKIP LOCKED between copies). */
  async claimDue(limit: number): Promise<PollRow[]> {
    return queryReturning<PollRow>(
      this.db,
      `UPDATE source_polls sp SET next_poll_at = now() + make_interval(secs => sp.interval_seconds)
        WHERE (sp.pipeline_id, sp.action_name) IN (
          SELECT pipeline_id, action_name FROM source_polls WHERE next_poll_at <= now()
           ORDER BY next_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING sp.pipeline_id AS "pipelineId", sp.action_name AS "actionName", sp.repository,
                  sp.branch, sp.interval_seconds AS "intervalSeconds", sp.last_revision AS "lastRevision"`,
      [limit],
    );
  }

  async recordError(row: PollRow, message: string): Promise<void> {
    await this.db.query(
      `UPDATE source_polls SET last_error = $3 WHERE pipeline_id = $1 AND action_name = $2`,
      [row.pipelineId, row.actionName, message],
    );
  }

  async recordRevision(row: PollRow, revision: string): Promise<void> {
    await this.db.query(
      `UPDATE source_polls SET last_revision = $3, last_error = NULL WHERE pipeline_id = $1 AND action_name = $2`,
      [row.pipelineId, row.actionName, revision],
    );
  }

  /** The pipeline's account and name; null once it is deleted. */
  async pipelineName(pipelineId: string): Promise<{ account: string; name: string } | null> {
    const rows: Array<{ account: string; name: string }> = await this.db.query(
      `SELECT account, name FROM pipelines WHERE id = $1`,
      [pipelineId],
    );
    return rows[0] ?? null;
  }
}
