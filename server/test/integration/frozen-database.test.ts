/**
 * A database that accepts connections but stops answering (a frozen host, a network dropping
 * packets) must not hang requests: they fail with UNAVAILABLE after the statement timeout,
 * /readyz says 503, and everything works again once the database answers.
 */
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startTestServer, type TestServer } from "../support/server";
import { TcpProxy } from "../support/tcp-proxy";
import { eventually } from "../support/wait";

let database: TestDatabase;
let proxy: TcpProxy;
let t: TestServer;
beforeAll(async () => {
  database = await createTestDatabase();
  const target = new URL(database.url);
  proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  t = await startTestServer({
    env: { DATABASE_URL: viaProxy.toString(), SLUICE_DB_QUERY_TIMEOUT_MS: "1000" },
  });
});
afterAll(async () => {
  proxy.thaw();
  await t?.stop();
  await proxy.close();
  await database.drop();
});

const health = () => fetch(`${t.url.replace(/\/graphql$/, "")}/readyz`);

it("fails requests with UNAVAILABLE instead of hanging, and recovers", async () => {
  expect((await t.gql(`{ pipelines(first: 1) { nodes { name } } }`)).errors).toBeUndefined();
  proxy.freeze();
  // Without the timeout this request would wait for ever (and the test time out).
  const frozen = await t.gql(`{ pipelines(first: 1) { nodes { name } } }`);
  expect(frozen.errors?.[0]).toMatchObject({
    message: "The database is unavailable; try again shortly.",
    extensions: { code: "UNAVAILABLE" },
  });
  expect((await health()).status).toBe(503);

  proxy.thaw();
  await eventually(async () => (await health()).status === 200, 15_000, "ready again");
  await eventually(
    async () => (await t.gql(`{ pipelines(first: 1) { nodes { name } } }`)).errors === undefined,
    15_000,
    "queries again",
  );
});
