import type { DataSource, EntityManager } from "typeorm";
import { cursorArgument, decodeCursor, encodeCursor, exactTime, type PageQuery } from "./cursor";
import { PipelineEntity } from "./entities/pipeline.entity";
import { withRowIds, type OutboxMessage, type OutboxRow } from "./outbox-store";

/** The columns of pipeline_executions that queries filter and sort on; `view` holds the rest. */
export interface ExecutionRow<View> {
  id: string;
  pipelineId: string;
  pipelineVersion: number;
  status: string;
  triggerType: string;
  clientRequestToken: string | null;
  startTime: Date;
  lastUpdateTime: Date;
  sequence: number;
  view: View;
}

/** The columns of an ExecutionRow, of the table `pipeline_executions` under the alias `e`. */
const EXECUTION_COLUMNS = `e.id, e.pipeline_id AS "pipelineId", e.pipeline_version AS "pipelineVersion", e.status,
  e.trigger_type AS "triggerType", e.client_request_token AS "clientRequestToken", e.start_time AS "startTime",
  e.last_update_time AS "lastUpdateTime", e.sequence, e.view`;

const SELECT_EXECUTION = `SELECT ${EXECUTION_COLUMNS} FROM pipeline_executions e`;

/** SELECT_EXECUTION with the account of the execution's pipeline (`p`). */
const SELECT_EXECUTION_WITH_ACCOUNT = `SELECT ${EXECUTION_COLUMNS}, p.account
  FROM pipeline_executions e JOIN pipelines p ON p.id = e.pipeline_id`;

/**
 * SQL for executions. The engine writes through a transaction's manager; reads use the pool.
 * Raw SQL on purpose: these are a handful of hot statements, and their shape is the point.
 */
/**
 * The execution records of a runtime row as one JSON array, unless the caller's copy is current
 * (its revision is the statement's $2): then NULL, and nothing but the small row is read.
 */
const EXECUTION_RECORDS = `CASE WHEN r.revision = $2 THEN NULL ELSE (
    SELECT coalesce(jsonb_agg(pe.runtime), '[]'::jsonb) FROM pipeline_executions pe
     WHERE pe.pipeline_id = r.pipeline_id AND pe.runtime IS NOT NULL) END AS executions`;

/**
 * The documents of the versions a pipeline's execution records pinned, as one JSON object by
 * version, but those the reader already holds (`skip`): read with the records, so that a reader
 * that held neither needs no statement more. NULL when there is none to send.
 */
const pinnedDocuments = (pipeline: string, skip: string) => `(
    SELECT json_object_agg(v.version, v.document) FROM pipeline_versions v
     WHERE v.pipeline_id = ${pipeline} AND NOT (v.version = ANY(${skip}))
       AND v.version IN (SELECT pe.pipeline_version FROM pipeline_executions pe
                          WHERE pe.pipeline_id = ${pipeline} AND pe.runtime IS NOT NULL))`;

interface RuntimeColumns {
  state: unknown;
  revision: number;
  executions: unknown[] | null;
  documents?: Record<string, unknown> | null;
}

/**
 * A pipeline's runtime as stored: its coordination record, the row's revision (one more for
 * every decision written) and, unless the reader's copy was current, its execution records.
 */
export interface StoredRuntimeRows {
  coordination: unknown;
  revision: number;
  executions: unknown[] | null;
  /** With the records: the documents they pinned (by version), but those the reader said it held. */
  documents: Map<number, unknown>;
}

/** An agent as the engine's locking statement reads it: whether its token was revoked. */
export interface LockedAgent {
  name: string;
  revoked: boolean;
  /** Its token's account: it may act on that account's pipelines' jobs only. */
  account: string;
}

function runtimeRows(row: RuntimeColumns): StoredRuntimeRows {
  return {
    coordination: row.state,
    revision: Number(row.revision),
    executions: row.executions,
    documents: new Map(
      Object.entries(row.documents ?? {}).map(([version, document]) => [Number(version), document]),
    ),
  };
}

/** How many entries each of a store's memories of facts that never change holds. */
const LOCATED_CAPACITY = 20_000;

/** Adds to a memory of facts that never change, forgetting the oldest when full. */
function rememberIn<V>(memory: Map<string, V>, key: string, value: V): void {
  if (memory.size >= LOCATED_CAPACITY) {
    const oldest = memory.keys().next();
    if (!oldest.done) memory.delete(oldest.value);
  }
  memory.set(key, value);
}

export class ExecutionStore {
  /**
   * Where action executions belong (never changes once written): every accept and complete asks,
   * and the ones this store wrote itself are answered without a statement.
   */
  private readonly located = new Map<string, { executionId: string; pipelineId: string }>();

  constructor(private readonly db: DataSource) {}

  private remember(id: string, place: { executionId: string; pipelineId: string }): void {
    rememberIn(this.located, id, place);
  }

  /** Pipelines of executions (never changes): what the checker asks for every id it is given. */
  private readonly pipelineNames = new Map<string, { account: string; pipeline: string }>();

  /**
   * The pipeline (its account and name) an execution belongs to, without reading its snapshot.
   * With `keep`, an execution not remembered yet is read whole, with its pipeline, in one statement,
   * and its row handed to `keep`: the request that asked reads it there instead of a second time.
   */
  async pipelineOfExecution(
    id: string,
    keep?: (row: ExecutionRow<unknown>) => void,
  ): Promise<{ account: string; pipeline: string } | null> {
    const known = this.pipelineNames.get(id);
    if (known !== undefined) return known;
    if (!isUuid(id)) return null;
    if (keep) {
      const rows: Array<ExecutionRow<{ pipelineName?: string }> & { account: string }> = await this.db.query(
        `${SELECT_EXECUTION_WITH_ACCOUNT} WHERE e.id = $1`,
        [id],
      );
      const row = rows[0];
      const name = row?.view.pipelineName;
      if (!row || typeof name !== "string") return null;
      const { account, ...execution } = row;
      const found = { account, pipeline: name };
      rememberIn(this.pipelineNames, id, found);
      keep(execution);
      return found;
    }
    const rows: Array<{ name: string | null; account: string }> = await this.db.query(
      `SELECT e.view->>'pipelineName' AS name, p.account
         FROM pipeline_executions e JOIN pipelines p ON p.id = e.pipeline_id WHERE e.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row || row.name === null) return null;
    const found = { account: row.account, pipeline: row.name };
    rememberIn(this.pipelineNames, id, found);
    return found;
  }

  /** Forgets a remembered place (its pipeline was deleted: the row is gone). */
  forgetActionExecution(id: string): void {
    this.located.delete(id);
  }

  /**
   * Locks the pipeline's runtime row for this transaction, creating it (with `empty`) on the
   * pipeline's first event, and reads it like `lockPipelineRuntime`.
   */
  async lockNewRuntime(
    m: EntityManager,
    pipelineId: string,
    empty: () => unknown,
    heldVersions: readonly number[] = [],
  ): Promise<StoredRuntimeRows> {
    // Another copy may be making the row too: make it if missing, then lock it.
    await m.query(
      `INSERT INTO pipeline_runtimes (pipeline_id, state) VALUES ($1, $2) ON CONFLICT (pipeline_id) DO NOTHING`,
      [pipelineId, JSON.stringify(empty())],
    );
    const rows: Array<Omit<RuntimeColumns, "executions">> = await m.query(
      `SELECT r.state, r.revision::int AS revision FROM pipeline_runtimes r WHERE r.pipeline_id = $1 FOR UPDATE`,
      [pipelineId],
    );
    return runtimeRows({ ...rows[0]!, ...(await this.executionRecords(m, pipelineId, heldVersions)) });
  }

  /**
   * The execution records of a pipeline's runtime, read after its row was locked. Not in the
   * locking statement: a statement that waited for the lock sees the row as the previous holder
   * left it, but every other table as it was when the statement began.
   */
  async executionRecords(
    m: EntityManager,
    pipelineId: string,
    heldVersions: readonly number[],
  ): Promise<{ executions: unknown[]; documents: Record<string, unknown> | null }> {
    const rows: Array<{ executions: unknown[]; documents: Record<string, unknown> | null }> = await m.query(
      `SELECT (SELECT coalesce(jsonb_agg(pe.runtime), '[]'::jsonb) FROM pipeline_executions pe
                WHERE pe.pipeline_id = $1 AND pe.runtime IS NOT NULL) AS executions,
              ${pinnedDocuments("$1", "$2::int[]")} AS documents`,
      [pipelineId, heldVersions],
    );
    return rows[0]!;
  }

  /**
   * The pipeline and its runtime row, locked for this transaction, in one statement; null when
   * the runtime row does not exist yet (the pipeline's first event: `lockNewRuntime` makes it).
   * The execution records are read by a second statement (`executionRecords`) only when
   * `known.revision` is not the row's revision (else `executions` is null), with the documents they
   * pinned but `known.heldVersions`; the document only when `known.version` is not the pipeline's
   * version (else `document` is null).
   */
  async lockPipelineRuntime(
    m: EntityManager,
    pipelineId: string,
    known: { revision: number | null; version: number | null; heldVersions?: readonly number[] },
    /** Agents whose names and revocations the same statement reads (the senders of results). */
    agentIds: readonly string[] = [],
  ): Promise<{
    pipeline: PipelineEntity;
    runtime: StoredRuntimeRows;
    agents: Map<string, LockedAgent>;
  } | null> {
    const rows: Array<
      Omit<PipelineEntity, "document"> & {
        document: unknown;
        agents: Record<string, LockedAgent> | null;
      } & Omit<RuntimeColumns, "executions">
    > = await m.query(
      `SELECT p.id, p.account, p.name, p.version, CASE WHEN p.version = $2 THEN NULL ELSE p.document END AS document,
              p.created_by AS "createdBy", p.updated_by AS "updatedBy", p.created_at AS "createdAt",
              p.updated_at AS "updatedAt", p.last_activity_at AS "lastActivityAt",
              r.state, r.revision::int AS revision,
              (SELECT json_object_agg(a.id, json_build_object('name', a.name, 'revoked', t.revoked_at IS NOT NULL,
                                                             'account', t.account))
                 FROM agents a JOIN agent_tokens t ON t.id = a.token_id WHERE a.id = ANY($3::uuid[])) AS agents
         FROM pipelines p JOIN pipeline_runtimes r ON r.pipeline_id = p.id
        WHERE p.id = $1 FOR UPDATE OF r`,
      [pipelineId, known.version ?? -1, agentIds.filter(isUuid)],
    );
    const row = rows[0];
    if (!row) return null;
    const { state, revision, agents, ...columns } = row;
    const records =
      revision === known.revision
        ? { executions: null, documents: null }
        : await this.executionRecords(m, pipelineId, known.heldVersions ?? []);
    return {
      pipeline: Object.assign(new PipelineEntity(), columns),
      runtime: runtimeRows({ state, revision, ...records }),
      agents: new Map(Object.entries(agents ?? {})),
    };
  }

  /** The runtime's rows without a lock (null: no event has happened yet); see lockPipelineRuntime. */
  async readRuntime(
    pipelineId: string,
    knownRevision: number | null,
    heldVersions: readonly number[] = [],
  ): Promise<StoredRuntimeRows | null> {
    const rows: RuntimeColumns[] = await this.db.query(
      `SELECT r.state, r.revision::int AS revision, ${EXECUTION_RECORDS},
              CASE WHEN r.revision = $2 THEN NULL ELSE ${pinnedDocuments("r.pipeline_id", "$3::int[]")} END AS documents
         FROM pipeline_runtimes r WHERE r.pipeline_id = $1`,
      [pipelineId, knownRevision ?? -1, heldVersions],
    );
    return rows[0] ? runtimeRows(rows[0]) : null;
  }

  /** The documents of some of a pipeline's versions (what executions pinned), by version. */
  async versionDocuments(
    pipelineId: string,
    versions: number[],
    m?: EntityManager,
  ): Promise<Map<number, unknown>> {
    const rows: Array<{ version: number; document: unknown }> = await (m ?? this.db).query(
      `SELECT version, document FROM pipeline_versions WHERE pipeline_id = $1 AND version = ANY($2::int[])`,
      [pipelineId, versions],
    );
    return new Map(rows.map((r) => [r.version, r.document]));
  }

  /**
   * Everything one decision writes, in one statement of data-modifying CTEs (one round trip
   * instead of five to eight): the runtime, the pipeline's lastActivityAt when an execution started
   * or changed status, the counts of executions by status, the snapshots of the executions it changed, the
   * action executions it started, its timers (already reduced to one effect per key: a
   * statement cannot touch a row twice), the history of its events and its messages for NATS.
   */
  async writeDecision<View>(
    m: EntityManager,
    decision: {
      pipelineId: string;
      /** The coordination record to store (pipeline_runtimes.state). */
      coordination: unknown;
      now: Date;
      clientRequestToken: string | null;
      /** The executions the decision changed, each with its record (pipeline_executions.runtime). */
      executions: Array<Omit<ExecutionRow<View>, "pipelineId" | "clientRequestToken"> & { runtime: unknown }>;
      /** Executions the runtime no longer holds (final, nothing points at them): records cleared. */
      forgotten: string[];
      actionExecutions: Array<{ id: string; executionId: string }>;
      timers: { schedule: Array<{ key: string; dueAt: Date; agentId: string | null }>; cancel: string[] };
      events: Array<{ executionId: string; sequence: number; event: unknown }>;
      messages: OutboxMessage[];
    },
  ): Promise<OutboxRow[]> {
    const { executions, actionExecutions, timers, events, messages, forgotten } = decision;
    // Remembered before the commit: a rolled-back decision's ids were never sent to anyone.
    for (const a of actionExecutions)
      this.remember(a.id, { executionId: a.executionId, pipelineId: decision.pipelineId });
    const written: Array<{ id: string; msg_id: string }> = await m.query(
      `WITH runtime AS (
         UPDATE pipeline_runtimes SET state = $2, updated_at = $3, revision = revision + 1 WHERE pipeline_id = $1),
       forgotten AS (
         UPDATE pipeline_executions SET runtime = NULL WHERE id = ANY($25::uuid[]) AND pipeline_id = $1),
       activity AS (
         -- an execution that starts or changes status moves the pipeline up "the most recently
         -- active first"; the statement's snapshot still holds each execution's previous status
         UPDATE pipelines SET last_activity_at = $3
          WHERE id = $1 AND last_activity_at < $3
            AND EXISTS (SELECT 1 FROM unnest($5::uuid[], $7::text[]) AS e(id, status)
                          LEFT JOIN pipeline_executions pe ON pe.id = e.id
                         WHERE pe.id IS NULL OR pe.status IS DISTINCT FROM e.status)),
       counted AS (
         -- the counts by status /metrics serves: +1 for the status an execution enters, -1 for the
         -- one it leaves (the statement's snapshot holds the previous status, as above)
         INSERT INTO execution_counts (pipeline_id, status, count)
         SELECT $1, c.status, sum(c.delta)
           FROM (SELECT e.status, 1 FROM unnest($5::uuid[], $7::text[]) AS e(id, status)
                   LEFT JOIN pipeline_executions pe ON pe.id = e.id
                  WHERE pe.id IS NULL OR pe.status IS DISTINCT FROM e.status
                 UNION ALL
                 SELECT pe.status, -1 FROM unnest($5::uuid[], $7::text[]) AS e(id, status)
                   JOIN pipeline_executions pe ON pe.id = e.id
                  WHERE pe.status IS DISTINCT FROM e.status) AS c(status, delta)
          GROUP BY c.status HAVING sum(c.delta) <> 0
         ON CONFLICT (pipeline_id, status) DO UPDATE SET count = execution_counts.count + EXCLUDED.count),
       executions AS (
         INSERT INTO pipeline_executions (id, pipeline_id, pipeline_version, status, trigger_type,
           client_request_token, start_time, last_update_time, sequence, view, runtime)
         SELECT e.id, $1, e.version, e.status, e.trigger, $4, e.started, e.updated, e.sequence, e.view, e.runtime
           FROM unnest($5::uuid[], $6::int[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[],
                       $11::int[], $12::jsonb[], $26::jsonb[])
             AS e(id, version, status, trigger, started, updated, sequence, view, runtime)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, last_update_time = EXCLUDED.last_update_time,
           sequence = EXCLUDED.sequence, view = EXCLUDED.view, runtime = EXCLUDED.runtime),
       attempts AS (
         INSERT INTO action_executions (id, execution_id, pipeline_id)
         SELECT a.id, a.execution_id, $1 FROM unnest($13::uuid[], $14::uuid[]) AS a(id, execution_id)
         ON CONFLICT (id) DO NOTHING),
       scheduled AS (
         INSERT INTO timers (key, pipeline_id, due_at, agent_id)
         SELECT t.key, $1, t.due_at, t.agent_id FROM unnest($15::text[], $16::timestamptz[], $17::uuid[])
           AS t(key, due_at, agent_id)
         ON CONFLICT (key) DO UPDATE SET due_at = EXCLUDED.due_at, agent_id = EXCLUDED.agent_id),
       cancelled AS (
         DELETE FROM timers WHERE key = ANY($18::text[])),
       history AS (
         INSERT INTO execution_events (execution_id, sequence, event)
         SELECT * FROM unnest($19::uuid[], $20::int[], $21::jsonb[]) ON CONFLICT DO NOTHING)
       INSERT INTO outbox (msg_id, subject, payload, traceparent, tracestate, kind, transport)
       SELECT * FROM unnest($22::text[], $23::text[], $24::jsonb[], $27::text[], $28::text[],
                            $29::text[]::outbox_kind[], $30::text[]::outbox_transport[])
       RETURNING id, msg_id`,
      [
        decision.pipelineId,
        JSON.stringify(decision.coordination),
        decision.now,
        decision.clientRequestToken,
        executions.map((e) => e.id),
        executions.map((e) => e.pipelineVersion),
        executions.map((e) => e.status),
        executions.map((e) => e.triggerType),
        executions.map((e) => e.startTime),
        executions.map((e) => e.lastUpdateTime),
        executions.map((e) => e.sequence),
        executions.map((e) => JSON.stringify(e.view)),
        actionExecutions.map((a) => a.id),
        actionExecutions.map((a) => a.executionId),
        timers.schedule.map((t) => t.key),
        timers.schedule.map((t) => t.dueAt),
        timers.schedule.map((t) => (t.agentId !== null && isUuid(t.agentId) ? t.agentId : null)),
        timers.cancel,
        events.map((e) => e.executionId),
        events.map((e) => e.sequence),
        events.map((e) => JSON.stringify(e.event)),
        messages.map((x) => x.msgId),
        messages.map((x) => x.subject),
        messages.map((x) => x.payload),
        forgotten,
        executions.map((e) => (e.runtime === null ? null : JSON.stringify(e.runtime))),
        messages.map((x) => x.traceparent ?? null),
        messages.map((x) => x.tracestate ?? null),
        messages.map((x) => x.kind),
        messages.map((x) => x.transport),
      ],
    );
    return withRowIds(messages, written);
  }

  async findByClientToken<View>(
    pipelineId: string,
    token: string,
    m?: EntityManager,
  ): Promise<ExecutionRow<View> | null> {
    const rows = await (m ?? this.db).query(
      `${SELECT_EXECUTION} WHERE pipeline_id = $1 AND client_request_token = $2`,
      [pipelineId, token],
    );
    return (rows[0] as ExecutionRow<View> | undefined) ?? null;
  }

  async findExecution<View>(id: string): Promise<ExecutionRow<View> | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.query(`${SELECT_EXECUTION} WHERE id = $1`, [id]);
    return (rows[0] as ExecutionRow<View> | undefined) ?? null;
  }

  /**
   * Newest first; keyset pagination on (start_time, id): `page.size + 1` rows from the cursor on
   * (backward: the newer ones before it, nearest first), each with its cursor.
   */
  async pageExecutions<View>(
    pipelineId: string,
    page: PageQuery,
    statuses: string[] | null,
  ): Promise<Array<ExecutionRow<View> & { cursor: string }>> {
    const params: unknown[] = [pipelineId, page.size + 1];
    let where = "pipeline_id = $1";
    if (statuses && statuses.length > 0) {
      params.push(statuses);
      where += ` AND status = ANY($${params.length})`;
    }
    if (page.cursor) {
      const [at, id] = decodeCursor<[string, string]>(page.cursor, ["time", "uuid"], cursorArgument(page));
      params.push(at, id);
      where += ` AND (start_time, id) ${page.backward ? ">" : "<"} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    const direction = page.backward ? "ASC" : "DESC";
    const rows: Array<ExecutionRow<View> & { cursorAt: string }> = await this.db.query(
      `${SELECT_EXECUTION.replace(" FROM ", `, ${exactTime("start_time")} AS "cursorAt" FROM `)} WHERE ${where}
        ORDER BY start_time ${direction}, id ${direction} LIMIT $2`,
      params,
    );
    return rows.map(({ cursorAt, ...row }) => ({
      ...(row as ExecutionRow<View>),
      cursor: encodeCursor([cursorAt, row.id]),
    }));
  }

  async countExecutions(pipelineId: string, statuses: string[] | null): Promise<number> {
    const filtered = statuses && statuses.length > 0;
    const rows: Array<{ count: string }> = await this.db.query(
      `SELECT count(*) FROM pipeline_executions WHERE pipeline_id = $1${filtered ? " AND status = ANY($2)" : ""}`,
      filtered ? [pipelineId, statuses] : [pipelineId],
    );
    return Number(rows[0]!.count);
  }

  /** The pipeline and execution an action execution belongs to. */
  async locateActionExecution(id: string): Promise<{ executionId: string; pipelineId: string } | null> {
    const known = this.located.get(id);
    if (known) return known;
    if (!isUuid(id)) return null;
    const rows: Array<{ executionId: string; pipelineId: string }> = await this.db.query(
      `SELECT execution_id AS "executionId", pipeline_id AS "pipelineId" FROM action_executions WHERE id = $1`,
      [id],
    );
    if (rows[0]) this.remember(id, rows[0]);
    return rows[0] ?? null;
  }

  async eventsOf<Event>(executionId: string, afterSequence = 0): Promise<Event[]> {
    if (!isUuid(executionId)) return [];
    const rows: Array<{ event: Event }> = await this.db.query(
      `SELECT event FROM execution_events WHERE execution_id = $1 AND sequence > $2 ORDER BY sequence`,
      [executionId, afterSequence],
    );
    return rows.map((r) => r.event);
  }

  /**
   * Moves a timer held by `agentId` (a lease) to `dueAt`, never earlier than it is (heartbeats
   * applied out of order, or late after an outage, do not shorten it); false when there is none.
   */
  async renewTimer(key: string, agentId: string, dueAt: Date): Promise<boolean> {
    const rows: Array<{ key: string }> = await this.db
      .createQueryBuilder()
      .update("timers")
      .set({ due_at: () => "GREATEST(due_at, :dueAt)" })
      .setParameter("dueAt", dueAt)
      // A revoked agent's lease is not renewed: revocation ended it, and the timer loop fails it.
      .where(
        `key = :key AND (agent_id = :agentId OR agent_id IS NULL) AND NOT EXISTS (
           SELECT 1 FROM agents a JOIN agent_tokens t ON t.id = a.token_id
            WHERE a.id = timers.agent_id AND t.revoked_at IS NOT NULL)`,
        { key, agentId: isUuid(agentId) ? agentId : null },
      )
      .returning("key")
      .execute()
      .then((result) => result.raw as Array<{ key: string }>);
    return rows.length > 0;
  }

  /**
   * Timers due at `now`, oldest first (candidates: `takeTimer` claims each one); leases and action
   * timeouts, which an agent's result may pre-empt, only when due at `leasesDueBy` (null: none), the
   * time up to which every agent result has been applied.
   */
  async dueTimers(
    now: Date,
    leasesDueBy: Date | null,
    limit: number,
  ): Promise<Array<{ key: string; pipelineId: string; agentId: string | null }>> {
    return this.db.query(
      `SELECT key, pipeline_id AS "pipelineId", agent_id AS "agentId" FROM timers
        WHERE due_at <= $1 AND (key NOT LIKE 'lease:%' AND key NOT LIKE 'action-timeout:%' OR due_at <= $2)
        ORDER BY due_at LIMIT $3`,
      [now, leasesDueBy ?? new Date(0), limit],
    );
  }

  /**
   * Removes a due timer inside the transaction that applies it, so the timer and its effect
   * commit together; false when another server copy took it first (or it was cancelled).
   */
  async takeTimer(m: EntityManager, key: string, dueBy: Date): Promise<boolean> {
    const rows: Array<{ key: string }> = await m
      .createQueryBuilder()
      .delete()
      .from("timers")
      .where("key = :key AND due_at <= :dueBy", { key, dueBy })
      .returning("key")
      .execute()
      .then((result) => result.raw as Array<{ key: string }>);
    return rows.length > 0;
  }

  async nextTimerDue(): Promise<Date | null> {
    const rows: Array<{ due: Date | null }> = await this.db.query(`SELECT min(due_at) AS due FROM timers`);
    return rows[0]?.due ? new Date(rows[0].due) : null;
  }
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
