/**
 * The transaction helper runs a deadlock victim again instead of surfacing the error: two real
 * PostgreSQL transactions that lock two rows in opposite orders.
 */
import { Client } from "pg";
import { DataSource } from "typeorm";
import { transaction } from "../../src/persistence/transaction";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/wait";

let database: TestDatabase;
let db: DataSource;
let other: Client;
beforeAll(async () => {
  database = await createTestDatabase();
  db = new DataSource({ type: "postgres", url: database.url });
  await db.initialize();
  await db.query(`CREATE TABLE pair (id int PRIMARY KEY, n int NOT NULL)`);
  await db.query(`INSERT INTO pair VALUES (1, 0), (2, 0)`);
  other = new Client({ connectionString: database.url });
  await other.connect();
});
afterAll(async () => {
  await other.end();
  await db.destroy();
  await database.drop();
});

it("runs a deadlock victim again, and the work happens once", async () => {
  let attempts = 0;
  let firstLocked!: () => void;
  const locked = new Promise<void>((resolve) => (firstLocked = resolve));
  await other.query("BEGIN");
  await other.query("UPDATE pair SET n = n + 10 WHERE id = 2");
  const helped = transaction(db, async (m) => {
    attempts++;
    await m.query("UPDATE pair SET n = n + 1 WHERE id = 1");
    if (attempts === 1) firstLocked();
    // Waits for `other` (row 2), which then waits for this transaction (row 1): a deadlock that
    // PostgreSQL detects here first, since this transaction waited first.
    await m.query("UPDATE pair SET n = n + 1 WHERE id = 2");
  });
  await locked;
  await eventually(
    async () =>
      (
        await other.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      ).rowCount! > 0,
    10_000,
    "the helper's transaction waiting",
  );
  await other.query("UPDATE pair SET n = n + 10 WHERE id = 1");
  await other.query("COMMIT");
  await helped;
  expect(attempts).toBe(2);
  const rows = await db.query(`SELECT id, n FROM pair ORDER BY id`);
  expect(rows).toEqual([
    { id: 1, n: 11 },
    { id: 2, n: 11 },
  ]);
});
