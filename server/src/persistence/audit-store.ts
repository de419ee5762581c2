import { AsyncLocalStorage } from "node:async_hooks";
import type { DataSource, EntityManager } from "typeorm";
import { storableText } from "../domain/storable-text";
import { cursorArgument, decodeCursor, encodeCursor, type PageQuery } from "./cursor";
import { transaction } from "./transaction";

export interface AuditEventRow {
  id: string;
  at: Date;
  principal: string;
  operation: string;
  pipelineName: string | null;
  target: string | null;
  arguments: Record<string, unknown>;
  /** `ok`, or the error's code (BAD_USER_INPUT, CONFLICT, …). */
  outcome: string;
  error: string | null;
  requestId: string | null;
  /** The account acted in (the assumed role's, in a role session). Absent: the default account. */
  account?: string;
  /** The real principal's account. Absent: the default account. */
  principalAccount?: string;
  /** In a role session: the role's SRN and the session name, `srn:sluice:<account>:role/<name> (session <s>)`. */
  assumedRole?: string | null;
  /**
   * How many requests the row stands for: 1, or for refused queries and subscriptions (recorded
   * within a budget, auth/refused-reads.ts) the refusals of its window. Absent: 1.
   */
  occurrences?: number;
}

export type NewAuditEvent = Omit<AuditEventRow, "id" | "at">;

/** The value with every string (keys too) made storable: what cannot be stored becomes U+FFFD. */
function storable<T>(value: T): T {
  if (typeof value === "string") return storableText(value) as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)])) as T;
}

async function insertEvent(db: DataSource | EntityManager, event: NewAuditEvent): Promise<string> {
  const e = storable(event);
  const [row]: Array<{ id: string }> = await db.query(
    `INSERT INTO audit_events (principal, operation, pipeline_name, target, arguments, outcome, error, request_id,
                               account, principal_account, assumed_role, occurrences)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id::text AS id`,
    [
      e.principal,
      e.operation,
      e.pipelineName,
      e.target,
      JSON.stringify(e.arguments),
      e.outcome,
      e.error,
      e.requestId,
      e.account ?? "default",
      e.principalAccount ?? "default",
      e.assumedRole ?? null,
      e.occurrences ?? 1,
    ],
  );
  return row!.id;
}

/**
 * The audit row of the mutation being run, to be written in the transaction that makes its
 * change: the GraphQL layer opens the scope (`PendingAudit.run`), the engine and the stores open
 * their transactions with `auditedTransaction`, which writes the row last, before committing. The
 * change and its audit row commit together, or neither does. The first transaction of the
 * mutation carries the row; one that fails hands it on to the next.
 */
export class PendingAudit {
  private static readonly current = new AsyncLocalStorage<PendingAudit>();
  /** The row's id once the transaction holding it committed. */
  id: string | null = null;
  private claimed = false;
  private closed = false;

  constructor(readonly event: NewAuditEvent) {}

  /** Runs the mutation in this scope; the scope closes when it settles (later work cannot claim it). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await PendingAudit.current.run(this, work);
    } finally {
      this.closed = true;
    }
  }

  /** The open, unclaimed scope of the caller, claimed. */
  static claim(): PendingAudit | null {
    const pending = PendingAudit.current.getStore();
    if (!pending || pending.closed || pending.claimed) return null;
    pending.claimed = true;
    return pending;
  }

  release(id: string | null): void {
    this.id = id;
    this.claimed = id !== null;
  }
}

/**
 * `transaction` (run again on a deadlock or serialization failure), plus the audit row of the
 * mutation it runs for (PendingAudit), if any.
 */
export async function auditedTransaction<T>(
  db: DataSource,
  work: (m: EntityManager) => Promise<T>,
): Promise<T> {
  const pending = PendingAudit.claim();
  if (!pending) return transaction(db, work);
  let id: string | null = null;
  try {
    const result = await transaction(db, async (m) => {
      const value = await work(m);
      id = await insertEvent(m, pending.event);
      return value;
    });
    return result;
  } catch (error) {
    id = null;
    throw error;
  } finally {
    pending.release(id);
  }
}

/** The audit log: one row per mutation, newest first when read. */
export class AuditStore {
  constructor(private readonly db: DataSource) {}

  /** Writes a row on its own (a mutation refused before it ran, or one that reached no transaction). */
  async record(event: NewAuditEvent): Promise<void> {
    await insertEvent(this.db, event);
  }

  /** The outcome of a mutation whose row committed with its change but which failed afterwards. */
  async settle(id: string, outcome: string, error: string | null): Promise<void> {
    await this.db.query(`UPDATE audit_events SET outcome = $2, error = $3 WHERE id = $1`, [
      id,
      outcome,
      error === null ? null : storableText(error),
    ]);
  }

  /**
   * A page, newest first: `page.size + 1` rows from the cursor on (backward: the newer ones before
   * it, nearest first), so that the caller knows whether more exist.
   */
  async page(page: PageQuery, filter: AuditFilter): Promise<AuditEventRow[]> {
    const { where, params } = auditWhere(filter);
    if (page.cursor) {
      const [id] = decodeCursor<[string]>(page.cursor, ["digits"], cursorArgument(page));
      where.push(`id ${page.backward ? ">" : "<"} $${params.push(id)}`);
    }
    const rows: AuditEventRow[] = await this.db.query(
      `${SELECT_AUDIT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY audit_events.id ${page.backward ? "ASC" : "DESC"} LIMIT $${params.push(page.size + 1)}`,
      params,
    );
    return rows;
  }

  async count(filter: AuditFilter): Promise<number> {
    const { where, params } = auditWhere(filter);
    const rows: Array<{ count: string }> = await this.db.query(
      `SELECT count(*) FROM audit_events ${where.length ? `WHERE ${where.join(" AND ")}` : ""}`,
      params,
    );
    return Number(rows[0]!.count);
  }

  /** One event by its id; null when there is none (or the id is not one). */
  async find(id: string): Promise<AuditEventRow | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const rows: AuditEventRow[] = await this.db.query(`${SELECT_AUDIT} WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  cursorOf(row: AuditEventRow): string {
    return encodeCursor([row.id]);
  }
}

export interface AuditFilter {
  /** The rows of what was done in this account and of what its principals did elsewhere. */
  account?: string;
  pipelineName: string | null;
  principal: string | null;
  operation: string | null;
}

const SELECT_AUDIT = `SELECT id::text AS id, at, principal, operation, pipeline_name AS "pipelineName", target, arguments,
       outcome, error, request_id AS "requestId", account, principal_account AS "principalAccount",
       assumed_role AS "assumedRole", occurrences
  FROM audit_events`;

function auditWhere(filter: AuditFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.account) {
    const n = params.push(filter.account);
    where.push(`(account = $${n} OR principal_account = $${n})`);
  }
  if (filter.pipelineName) where.push(`pipeline_name = $${params.push(filter.pipelineName)}`);
  if (filter.principal) where.push(`principal = $${params.push(filter.principal)}`);
  if (filter.operation) where.push(`operation = $${params.push(filter.operation)}`);
  return { where, params };
}
