/**
 * GET /graphql in a browser: GraphiQL from this server alone. Every request the page makes is
 * watched; any to another host is blocked and fails the test (Apollo's landing page would load
 * from its CDN and Google Fonts).
 */
import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../support/server";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let t: TestServer;
let browser: Browser;
beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run \`node scripts/ensure-services.mjs --chromium\`.`);
  t = await startTestServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

it("serves GraphiQL with only requests to this server, and it runs an operation", async () => {
  const page = await browser.newPage();
  const local: string[] = [];
  const elsewhere: string[] = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") {
      local.push(url.pathname);
      return route.continue();
    }
    elsewhere.push(url.href);
    return route.abort();
  });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  const response = await page.goto(t.url);
  expect(response?.status()).toBe(200);
  await page.locator(".graphiql-container").waitFor({ timeout: 30_000 });
  // The headers editor is open (defaultEditorToolbarTabs): give it the token, then run a query.
  const headers = page.locator(".graphiql-editor-tool .graphiql-editor").last();
  await headers.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(`{"Authorization": "Bearer ${ADMIN_TOKEN}"}`);
  const query = page.locator(".graphiql-query-editor .CodeMirror").first();
  await query.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("{ version { protocol } }");
  await page.locator(".graphiql-execute-button").click();
  await page.locator(".result-window").getByText('"protocol"').waitFor({ timeout: 15_000 });

  expect(elsewhere).toEqual([]);
  expect(errors).toEqual([]);
  expect(local).toEqual(expect.arrayContaining(["/graphql", "/graphiql/graphiql.js", "/graphiql/react.js"]));
  await page.close();
}, 90_000);

it("API clients still reach GraphQL on GET /graphql", async () => {
  const response = await fetch(`${t.url}?query=${encodeURIComponent("{ __typename }")}`, {
    headers: {
      accept: "application/json",
      "apollo-require-preflight": "1",
      authorization: `Bearer ${ADMIN_TOKEN}`,
    },
  });
  expect(response.headers.get("content-type")).toMatch(/json/);
  expect(await response.json()).toEqual({ data: { __typename: "Query" } });
  // The dashboard's cross-origin POSTs: the preflight must reach cors(), not the page's route.
  const preflight = await fetch(t.url, {
    method: "OPTIONS",
    headers: {
      origin: "http://127.0.0.1:3999",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type",
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
  const plain = await fetch(t.url, { headers: { accept: "application/json" } });
  expect(plain.headers.get("content-type")).not.toMatch(/html/);
});
