import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Refused queries and subscriptions are audited within a budget (auth/refused-reads.ts): one
 * row per principal, operation and resource per window, standing for every refusal of the window.
 * `occurrences` is how many; 1 for every other row.
 */
export class AuditOccurrences1767720000000 implements MigrationInterface {
  name = "AuditOccurrences1767720000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE audit_events ADD COLUMN occurrences integer NOT NULL DEFAULT 1 CHECK (occurrences >= 1)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events DROP COLUMN occurrences`);
  }
}
