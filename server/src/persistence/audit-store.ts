import type { DataSource } from "typeorm";
import { decodeCursor, encodeCursor } from "./cursor";

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
}

export type NewAuditEvent = Omit<AuditEventRow, "id" | "at">;

/** The audit log: one row per mutation, newest first when read. */
export class AuditStore {
  constructor(private readonly db: DataSource) {}

  async record(event: NewAuditEvent): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_events (principal, operation, pipeline_name, target, arguments, outcome, error, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        event.principal,
        event.operation,
        event.pipelineName,
        event.target,
        JSON.stringify(event.arguments),
        event.outcome,
        event.error,
        event.requestId,
      ],
    );
  }

  /** A page, newest first; `first + 1` rows so that the caller knows whether more exist. */
  async page(filter: {
    first: number;
    after: string | null;
    pipelineName: string | null;
    principal: string | null;
    operation: string | null;
  }): Promise<AuditEventRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.after) where.push(`id < $${params.push(decodeCursor<[string]>(filter.after, ["string"])[0])}`);
    if (filter.pipelineName) where.push(`pipeline_name = $${params.push(filter.pipelineName)}`);
    if (filter.principal) where.push(`principal = $${params.push(filter.principal)}`);
    if (filter.operation) where.push(`operation = $${params.push(filter.operation)}`);
    const rows: AuditEventRow[] = await this.db.query(
      `SELECT id::text AS id, at, principal, operation, pipeline_name AS "pipelineName", target, arguments, outcome,
              error, request_id AS "requestId"
         FROM audit_events ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY audit_events.id DESC LIMIT $${params.push(filter.first + 1)}`,
      params,
    );
    return rows;
  }

  cursorOf(row: AuditEventRow): string {
    return encodeCursor([row.id]);
  }
}
