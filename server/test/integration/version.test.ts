import { MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_VERSION } from "@sluice/protocol";
import packageJson from "../../package.json";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";

const METRICS_TOKEN = "metrics-scrape-token-0123456789";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { SLUICE_METRICS_TOKEN: METRICS_TOKEN } });
});
afterAll(async () => {
  await t?.stop();
});

const expected = {
  server: packageJson.version,
  protocol: PROTOCOL_VERSION,
  minProtocol: MIN_SUPPORTED_PROTOCOL_VERSION,
};

it("GET /version answers the server and protocol versions to a token allowed GetVersion", async () => {
  const url = t.url.replace(/\/graphql$/, "/version");
  expect((await fetch(url)).status).toBe(401);
  for (const token of [ADMIN_TOKEN, METRICS_TOKEN]) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(expected);
  }
});

it("the version query answers the same, through the authorization checker", async () => {
  const query = `{ version { server protocol minProtocol } }`;
  expect(dataOf(await t.gql(query)).version).toEqual(expected);
  expect(dataOf(await t.gql(query, {}, { token: METRICS_TOKEN })).version).toEqual(expected);
  const anonymous = await t.gql(query, {}, { token: null });
  expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
});
