import type { DataSource, EntityManager } from "typeorm";
import { QueryFailedError } from "typeorm";

/** deadlock_detected and serialization_failure: PostgreSQL rolled the transaction back, running it again is safe. */
const RETRYABLE = new Set(["40P01", "40001"]);
const ATTEMPTS = 4;

export function retryableConflict(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    RETRYABLE.has((error.driverError as { code?: string } | undefined)?.code ?? "")
  );
}

/**
 * `db.transaction(work)`, run again (up to 4 times, after a short random pause) when PostgreSQL
 * ends it as a deadlock victim or a serialization failure: such a transaction changed nothing,
 * and a client should not see INTERNAL_SERVER_ERROR for a lock order it cannot influence. `work`
 * must be safe to run again (it reads what it needs inside the transaction).
 */
export async function transaction<T>(db: DataSource, work: (m: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (error) {
      if (attempt >= ATTEMPTS || !retryableConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
    }
  }
}

/** Takes the transaction-level advisory lock `key`: the transactions that take it take turns. */
export async function advisoryLock(m: EntityManager, key: number): Promise<void> {
  await m.query("SELECT pg_advisory_xact_lock($1)", [key]);
}
