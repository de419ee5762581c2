/**
 * Agent tokens are authenticated once per AGENT_TOKEN_CACHE_MS by each server copy, not once per
 * request: every artifact, secrets and credentials request carries one. A revocation through the
 * copy forgets the token at once; through another copy it takes effect within that time.
 */
import { AGENT_TOKEN_CACHE_MS, AgentStore } from "../../src/persistence/agent-store";
import { startTestServer, type TestServer } from "../support/server";
import { countingQueries } from "../support/sql-statements";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

it("reads a token once per time limit, never keeps an unknown one, and forgets one it revoked at once", async () => {
  let clock = 1_000_000;
  const { db, count } = countingQueries(t.server.db);
  const store = new AgentStore(db, () => clock);
  const { row, token } = await store.createToken("cache", "admin", "default");

  const before = count();
  expect((await store.authenticate(token))?.id).toBe(row.id);
  expect((await store.authenticate(token))?.id).toBe(row.id);
  expect(count() - before).toBe(1);
  clock += AGENT_TOKEN_CACHE_MS + 1;
  expect((await store.authenticate(token))?.id).toBe(row.id);
  expect(count() - before).toBe(2);

  // An unknown token is asked about every time (it may be made next).
  expect(await store.authenticate("sat_not-a-token")).toBeNull();
  expect(await store.authenticate("sat_not-a-token")).toBeNull();
  expect(count() - before).toBe(4);

  // Revoked through this copy: refused at the next request.
  await store.revokeToken(row.id, "admin", "default");
  expect(await store.authenticate(token)).toBeNull();
});

it("refuses a token revoked through another copy once its kept authentication is older than the limit", async () => {
  let clock = 5_000_000;
  const store = new AgentStore(t.server.db, () => clock);
  const other = new AgentStore(t.server.db);
  const { row, token } = await store.createToken("elsewhere", "admin", "default");
  expect((await store.authenticate(token))?.id).toBe(row.id);
  await other.revokeToken(row.id, "admin", "default");
  // Within the limit this copy still knows the token as it was.
  clock += AGENT_TOKEN_CACHE_MS - 1;
  expect((await store.authenticate(token))?.id).toBe(row.id);
  clock += 2;
  expect(await store.authenticate(token)).toBeNull();
});
