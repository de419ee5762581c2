import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The installation's id: made once with the database, claimed on NATS by the first server so that
 * two installations never share a prefix (PROTOCOL.md 4.3, messaging/installation-claim.ts).
 */
export class Installation1764700000000 implements MigrationInterface {
  name = "Installation1764700000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE installation (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO installation DEFAULT VALUES`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE installation`);
  }
}
