/**
 * Retention on the embedded database (PGlite, `npm start` without DATABASE_URL): one session for
 * everything, so the round's advisory lock and its deletes must not wait on each other.
 */
import { dataOf, startTestServer, type TestServer } from "../support/server";

jest.setTimeout(120_000);

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ pglite: true, env: { SLUICE_RETENTION_INTERVAL_SECONDS: "86400" } });
  // A new PGlite runs every migration at its first start: slow on a busy machine.
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

it("runs a round on PGlite: an old audit event goes, a new one stays", async () => {
  dataOf(await t.gql(`mutation { createAgentToken(description: "one") { id } }`));
  dataOf(await t.gql(`mutation { createAgentToken(description: "two") { id } }`));
  await t.server.db.query(
    `UPDATE audit_events SET at = now() - interval '400 days' WHERE id = (SELECT min(id) FROM audit_events)`,
  );
  const report = await t.server.retention.runOnce();
  expect(report).toMatchObject({ skipped: false, auditEvents: 1, executions: 0 });
  const left = await t.server.db.query(`SELECT operation FROM audit_events`);
  expect(left).toHaveLength(1);
  expect((await t.server.retention.runOnce()).auditEvents).toBe(0);
});
