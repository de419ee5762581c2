import type { DataSource } from "typeorm";

/** What /metrics reads from the database at scrape time: the shared truth of every server copy. */
export interface DatabaseFigures {
  executions: Array<{ account: string; pipeline: string; status: string; count: number }>;
  /** Attempts not final, by pool, provider and state (queued, running, awaiting_approval). */
  actions: Array<{ account: string; pool: string; provider: string; state: string; count: number }>;
  agents: Array<{ account: string; pool: string; status: string; count: number }>;
  outboxMessages: number;
  /** Seconds since the oldest message waiting in the outbox was written; 0 when it is empty. */
  outboxOldestSeconds: number;
  timersDue: number;
}

const int = (value: unknown) => Number(value ?? 0);

/**
 * Reads the figures in one read-only transaction of a few grouped statements. The executions are
 * the counts the statements that change them keep (execution_counts), not a count of the history.
 * The actions come from
 * each pipeline's runtime (the executions not final and the documents they started with): the
 * attempt's state is the last attempt of an action that is not pending, its pool and provider the
 * action's declaration in the execution's document.
 */
export async function readDatabaseFigures(db: DataSource, defaultPool: string): Promise<DatabaseFigures> {
  return db.transaction("REPEATABLE READ", async (m) => {
    const executions: Array<{ account: string; pipeline: string; status: string; count: string }> =
      await m.query(
        `SELECT p.account, p.name AS pipeline, c.status, c.count
           FROM execution_counts c JOIN pipelines p ON p.id = c.pipeline_id
          WHERE c.count > 0`,
      );
    const actions: Array<{
      account: string;
      pool: string | null;
      provider: string;
      state: string;
      count: string;
    }> = await m.query(
      `SELECT p.account, d.action->>'region' AS pool, d.action->'actionTypeId'->>'provider' AS provider,
                CASE WHEN att->>'status' = 'Queued' THEN 'queued'
                     WHEN (att->>'approvalPending')::boolean THEN 'awaiting_approval'
                     ELSE 'running' END AS state,
                count(*) AS count
           FROM pipeline_executions e
           JOIN pipelines p ON p.id = e.pipeline_id
           JOIN pipeline_versions v ON v.pipeline_id = e.pipeline_id AND v.version = e.pipeline_version
           CROSS JOIN LATERAL (SELECT e.runtime AS x) AS record
           CROSS JOIN LATERAL jsonb_array_elements(x->'stages') WITH ORDINALITY AS s(stage, si)
           CROSS JOIN LATERAL jsonb_array_elements(s.stage->'actions') AS a(action)
           CROSS JOIN LATERAL (SELECT a.action->'attempts'->-1 AS att) AS last
           CROSS JOIN LATERAL jsonb_array_elements(v.document::jsonb->'stages'->(s.si::int - 1)->'actions') AS d(action)
          WHERE e.runtime IS NOT NULL AND e.status IN ('InProgress', 'Stopping')
            AND d.action->>'name' = a.action->>'actionName'
            AND NOT coalesce((a.action->>'pending')::boolean, false)
            AND att->>'status' IN ('Queued', 'InProgress')
          GROUP BY 1, 2, 3, 4`,
    );
    const agents: Array<{ account: string; pool: string; status: string; count: string }> = await m.query(
      `SELECT t.account, a.pool, a.status, count(*) AS count
         FROM agents a JOIN agent_tokens t ON t.id = a.token_id
        GROUP BY t.account, a.pool, a.status`,
    );
    const [outbox]: Array<{ count: string; oldest: string | null }> = await m.query(
      `SELECT count(*) AS count, extract(epoch FROM now() - min(created_at)) AS oldest FROM outbox`,
    );
    const [timers]: Array<{ count: string }> = await m.query(
      `SELECT count(*) AS count FROM timers WHERE due_at <= now()`,
    );
    return {
      executions: executions.map((r) => ({
        account: r.account,
        pipeline: r.pipeline,
        status: r.status,
        count: int(r.count),
      })),
      actions: actions.map((r) => ({
        account: r.account,
        pool: r.pool ?? defaultPool,
        provider: r.provider,
        state: r.state,
        count: int(r.count),
      })),
      agents: agents.map((r) => ({
        account: r.account,
        pool: r.pool,
        status: r.status,
        count: int(r.count),
      })),
      outboxMessages: int(outbox?.count),
      outboxOldestSeconds: Math.max(0, int(outbox?.oldest)),
      timersDue: int(timers?.count),
    };
  });
}
