import type { DataSource, QueryRunner } from "typeorm";
import { FINAL_EXECUTION_STATUSES } from "../domain/execution/types";
import { DomainError } from "../domain/errors";
import { auditedTransaction } from "./audit-store";
import { queryReturning } from "./returning";
import { REPLAY_WINDOW_SECONDS } from "./webhook-store";

/** What is kept and for how long (config.ts, SLUICE_RETENTION_*). A 0 keeps for ever / sets no limit. */
export interface RetentionSettings {
  /** Finished executions older than this (since their last change) are deleted. */
  executionDays: number;
  /** At most this many executions per pipeline; the oldest finished ones go first. */
  maxExecutions: number;
  /** Per pipeline name: exceptions to the two above and to its account's setting. */
  pipelines: Record<string, RetentionPolicyPart>;
  auditDays: number;
  /** Delivered or given-up notification deliveries. */
  notificationDays: number;
}

/** A session-level advisory lock: one server copy runs a retention round at a time. */
export const RETENTION_LOCK = 736_411_010;

/** Executions deleted per transaction: the pipeline's lock is held for one small batch only. */
export const EXECUTION_BATCH = 50;
/** Rows of the other tables deleted per statement. */
export const ROW_BATCH = 1000;

const DAY_MS = 24 * 3600 * 1000;

/** Part of a retention policy: a field left out is inherited from the level below. */
export interface RetentionPolicyPart {
  days?: number;
  maxExecutions?: number;
}

export interface AccountRetentionRow {
  account: string;
  /** null: the installation's SLUICE_RETENTION_DAYS. */
  executionDays: number | null;
  /** null: the installation's SLUICE_RETENTION_MAX_EXECUTIONS. */
  maxExecutions: number | null;
  updatedAt: Date;
  updatedBy: string;
}

const ACCOUNT_RETENTION_COLUMNS = `account, execution_days AS "executionDays", max_executions AS "maxExecutions",
  updated_at AS "updatedAt", updated_by AS "updatedBy"`;

export interface PurgeRow {
  executionId: string;
  jobIds: string[];
}

/**
 * The database side of retention. Executions are deleted under their pipeline's runtime lock (the
 * one every engine decision takes), so a rollback or a retry never sees half of a deleted
 * execution, and only when nothing needs them: never the pipeline's latest execution, never one
 * that is not final, never one the runtime still names (a stage's latest or last successful
 * execution, an action's latest run, the source of a running rollback's artifacts).
 */
export class RetentionStore {
  constructor(private readonly db: DataSource) {}

  /** Takes the round's lock on a connection of its own; null when another copy holds it. */
  async tryLock(): Promise<QueryRunner | null> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const rows: Array<{ locked: boolean }> = await runner.query(
        `SELECT pg_try_advisory_lock($1) AS locked`,
        [RETENTION_LOCK],
      );
      if (rows[0]?.locked) return runner;
    } catch (error) {
      await runner.release();
      throw error;
    }
    await runner.release();
    return null;
  }

  async unlock(runner: QueryRunner): Promise<void> {
    try {
      await runner.query(`SELECT pg_advisory_unlock($1)`, [RETENTION_LOCK]);
    } finally {
      await runner.release();
    }
  }

  /**
   * Pipelines that have finished executions, with their names (pipeline settings are by name), their
   * account and its retention setting, if it has one.
   */
  async pipelinesWithHistory(): Promise<
    Array<{ id: string; name: string; account: string; accountSetting: RetentionPolicyPart | null }>
  > {
    const rows: Array<{
      id: string;
      name: string;
      account: string;
      hasSetting: boolean;
      days: number | null;
      maxExecutions: number | null;
    }> = await this.db.query(
      `SELECT p.id, p.name, p.account, r.account IS NOT NULL AS "hasSetting",
              r.execution_days AS days, r.max_executions AS "maxExecutions"
         FROM pipelines p
         LEFT JOIN account_retention r ON r.account = p.account
        WHERE EXISTS (SELECT 1 FROM pipeline_executions e WHERE e.pipeline_id = p.id AND e.status = ANY($1))
        ORDER BY p.account, p.name`,
      [FINAL_EXECUTION_STATUSES],
    );
    return rows.map(({ hasSetting, days, maxExecutions, ...pipeline }) => ({
      ...pipeline,
      accountSetting: hasSetting
        ? {
            ...(days === null ? {} : { days }),
            ...(maxExecutions === null ? {} : { maxExecutions }),
          }
        : null,
    }));
  }

  /**
   * The policy of one pipeline, field by field: its own setting (SLUICE_RETENTION_PIPELINES),
   * else its account's (setAccountRetention), else the installation's (SLUICE_RETENTION_DAYS,
   * SLUICE_RETENTION_MAX_EXECUTIONS).
   */
  static policyOf(
    settings: RetentionSettings,
    pipelineName: string,
    account: RetentionPolicyPart | null = null,
  ): { days: number; maxExecutions: number } {
    const own = Object.hasOwn(settings.pipelines, pipelineName)
      ? settings.pipelines[pipelineName]
      : undefined;
    return {
      days: own?.days ?? account?.days ?? settings.executionDays,
      maxExecutions: own?.maxExecutions ?? account?.maxExecutions ?? settings.maxExecutions,
    };
  }

  /** An account's own retention setting; null when it has none (it inherits the installation's). */
  async accountRetention(account: string): Promise<AccountRetentionRow | null> {
    const [row]: AccountRetentionRow[] = await this.db.query(
      `SELECT ${ACCOUNT_RETENTION_COLUMNS} FROM account_retention WHERE account = $1`,
      [account],
    );
    return row ?? null;
  }

  /**
   * Sets an account's retention (a null field inherits the installation's), audited in the same
   * transaction; NOT_FOUND, changing nothing, when the account does not exist.
   */
  async putAccountRetention(
    account: string,
    setting: { executionDays: number | null; maxExecutions: number | null },
    by: string,
  ): Promise<AccountRetentionRow> {
    return auditedTransaction(this.db, async (m) => {
      const [row] = await queryReturning<AccountRetentionRow>(
        m,
        `INSERT INTO account_retention (account, execution_days, max_executions, updated_by)
         SELECT id, $2, $3, $4 FROM accounts WHERE id = $1
         ON CONFLICT (account) DO UPDATE SET execution_days = EXCLUDED.execution_days,
           max_executions = EXCLUDED.max_executions, updated_at = now(), updated_by = EXCLUDED.updated_by
         RETURNING ${ACCOUNT_RETENTION_COLUMNS}`,
        [account, setting.executionDays, setting.maxExecutions, by],
      );
      if (!row)
        throw new DomainError("NOT_FOUND", `No account ${JSON.stringify(account.slice(0, 80))} exists.`);
      return row;
    });
  }

  /**
   * Deletes up to EXECUTION_BATCH expired executions of one pipeline (their events and action
   * executions go with them), queueing their logs and artifacts in `retention_purges` in the same
   * transaction. Returns how many it deleted; fewer than the batch means none is left.
   */
  async deleteExpiredExecutions(
    pipelineId: string,
    policy: { days: number; maxExecutions: number },
    now: Date,
  ): Promise<number> {
    if (policy.days === 0 && policy.maxExecutions === 0) return 0;
    return this.db.transaction(async (m) => {
      // The engine's lock. An execution the runtime names stays: one it holds, one a stage points
      // at, one a held execution refers to (a running rollback's source, the one it waits behind).
      const locked: Array<{ runtime: string }> = await m.query(
        `SELECT r.state::text || coalesce((SELECT string_agg(e.runtime::text, ' ') FROM pipeline_executions e
                                            WHERE e.pipeline_id = r.pipeline_id AND e.runtime IS NOT NULL), '')
                  AS runtime
           FROM pipeline_runtimes r WHERE r.pipeline_id = $1 FOR UPDATE OF r`,
        [pipelineId],
      );
      if (locked.length === 0) return 0;
      const runtimeText = locked[0]!.runtime;
      const cutoff = new Date(now.getTime() - policy.days * DAY_MS);
      const deleted = await queryReturning<{ id: string }>(
        m,
        `WITH ranked AS (
           SELECT id, status, last_update_time,
                  row_number() OVER (ORDER BY start_time DESC, id DESC) AS rank
             FROM pipeline_executions WHERE pipeline_id = $1),
         doomed AS (
           SELECT id FROM ranked
            WHERE rank > 1
              AND status = ANY($2)
              AND (($3::int > 0 AND last_update_time < $4) OR ($5::int > 0 AND rank > $5))
              AND strpos($6, id::text) = 0
            ORDER BY rank DESC
            LIMIT $7),
         queued AS (
           INSERT INTO retention_purges (execution_id, job_ids)
           SELECT d.id, COALESCE(ARRAY(SELECT a.id::text FROM action_executions a WHERE a.execution_id = d.id), '{}')
             FROM doomed d
           ON CONFLICT (execution_id) DO NOTHING),
         deleted AS (
           DELETE FROM pipeline_executions e USING doomed d WHERE e.id = d.id RETURNING e.id, e.status),
         counted AS (
           UPDATE execution_counts c SET count = c.count - d.n
             FROM (SELECT status, count(*) AS n FROM deleted GROUP BY status) d
            WHERE c.pipeline_id = $1 AND c.status = d.status)
         SELECT id FROM deleted`,
        [
          pipelineId,
          FINAL_EXECUTION_STATUSES,
          policy.days,
          cutoff,
          policy.maxExecutions,
          runtimeText,
          EXECUTION_BATCH,
        ],
      );
      return deleted.length;
    });
  }

  /** Executions whose NATS data is still to be removed (oldest first). */
  async pendingPurges(limit: number): Promise<PurgeRow[]> {
    return this.db.query(
      `SELECT execution_id AS "executionId", job_ids AS "jobIds" FROM retention_purges
        ORDER BY created_at, execution_id LIMIT $1`,
      [limit],
    );
  }

  async purged(executionId: string): Promise<void> {
    await this.db.query(`DELETE FROM retention_purges WHERE execution_id = $1`, [executionId]);
  }

  /** Deletes, in batches, audit events older than `days`. */
  async deleteOldAudit(days: number, now: Date): Promise<number> {
    if (days === 0) return 0;
    return this.inBatches(
      `DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)`,
      new Date(now.getTime() - days * DAY_MS),
    );
  }

  /** Deletes delivered and given-up notification deliveries (and their attempts) older than `days`. */
  async deleteOldDeliveries(days: number, now: Date): Promise<number> {
    if (days === 0) return 0;
    return this.inBatches(
      `DELETE FROM notification_deliveries WHERE id IN (
         SELECT id FROM notification_deliveries WHERE status <> 'PENDING' AND created_at < $1 LIMIT $2)`,
      new Date(now.getTime() - days * DAY_MS),
    );
  }

  /** Webhook bodies remembered for replay detection beyond the replay window serve nothing. */
  async deleteOldWebhookDeliveries(now: Date): Promise<number> {
    return this.inBatches(
      `DELETE FROM webhook_deliveries WHERE digest IN (
         SELECT digest FROM webhook_deliveries WHERE received_at < $1 LIMIT $2)`,
      new Date(now.getTime() - REPLAY_WINDOW_SECONDS * 1000),
    );
  }

  private async inBatches(sql: string, cutoff: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const [, count] = (await this.db.query(sql, [cutoff, ROW_BATCH])) as [unknown, number];
      total += count;
      if (count < ROW_BATCH) return total;
    }
  }
}
