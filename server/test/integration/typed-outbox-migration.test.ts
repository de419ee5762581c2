/**
 * Migration 1768030000000-TypedOutbox: rows an earlier version left in the outbox get their kind
 * and transport from their subject, once; its `down` gives the table back its earlier shape.
 */
import { DataSource } from "typeorm";
import { entities, migrations } from "../../src/persistence/data-source";
import { createTestDatabase, type TestDatabase } from "../support/database";

let db: TestDatabase;
let typeorm: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  typeorm = new DataSource({ type: "postgres", url: db.url, entities, migrations, migrationsRun: false });
  await typeorm.initialize();
  await typeorm.runMigrations();
});

afterAll(async () => {
  await typeorm?.destroy();
  await db?.drop();
});

const last = async (): Promise<string> =>
  (await typeorm.query(`SELECT name FROM migrations ORDER BY timestamp DESC LIMIT 1`))[0].name;

/** Undoes migrations down to and including TypedOutbox (later ones first). */
async function beforeTypedOutbox(): Promise<void> {
  while ((await last()) !== "TypedOutbox1768030000000") await typeorm.undoLastMigration();
  await typeorm.undoLastMigration();
}

const columns = async (): Promise<string[]> =>
  (
    await typeorm.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'outbox' ORDER BY column_name`,
    )
  ).map((row: { column_name: string }) => row.column_name);

it("derives each earlier row's kind and transport from its subject, and undoes it", async () => {
  await beforeTypedOutbox();
  expect(await columns()).not.toContain("kind");
  const old: Array<[msgId: string, subject: string]> = [
    ["job:j1:1", "sluice.jobs.default.Build.Sluice.Shell.1"],
    ["cancel:j1:1", "sluice.cancel.j1"],
    ["cancel:j1:1:a1", "sluice.agents.a1.cancel"],
    ["event:e1:1", "sluice.events.web"],
    ["event:7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10", "sluice.events.web"],
    ["definition:p1:2", "other_prefix.events.api"],
  ];
  for (const [msgId, subject] of old)
    await typeorm.query(`INSERT INTO outbox (msg_id, subject, payload) VALUES ($1, $2, '{}')`, [
      msgId,
      subject,
    ]);

  await typeorm.runMigrations();
  expect(await typeorm.query(`SELECT msg_id AS "msgId", kind, transport FROM outbox ORDER BY id`)).toEqual([
    { msgId: "job:j1:1", kind: "job", transport: "jetstream" },
    { msgId: "cancel:j1:1", kind: "cancel", transport: "jetstream" },
    { msgId: "cancel:j1:1:a1", kind: "cancel", transport: "core" },
    { msgId: "event:e1:1", kind: "pipelineEvent", transport: "jetstream" },
    { msgId: "event:7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10", kind: "pipelineEvent", transport: "jetstream" },
    { msgId: "definition:p1:2", kind: "definitionEvent", transport: "jetstream" },
  ]);
  // Every row says what it is from now on.
  await expect(
    typeorm.query(`INSERT INTO outbox (msg_id, subject, payload) VALUES ('x', 'sluice.events.web', '{}')`),
  ).rejects.toThrow(/kind/);

  await beforeTypedOutbox();
  expect(await columns()).toEqual([
    "created_at",
    "id",
    "msg_id",
    "payload",
    "subject",
    "traceparent",
    "tracestate",
  ]);
  expect(await typeorm.query(`SELECT count(*)::int AS n FROM outbox`)).toEqual([{ n: old.length }]);
  await typeorm.runMigrations();
  expect(await columns()).toContain("kind");
});
