import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The installation's lease key: the secret every server copy derives the jobs' lease tokens from
 * (engine/lease-tokens.ts, PROTOCOL.md 6.2). Two v4 UUIDs give 244 random bits from the database's
 * strong generator without pgcrypto (PGlite has no extensions); it never leaves the servers.
 */
export class LeaseKey1764800000000 implements MigrationInterface {
  name = "LeaseKey1764800000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE installation ADD COLUMN lease_key text NOT NULL
        DEFAULT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE installation DROP COLUMN lease_key`);
  }
}
