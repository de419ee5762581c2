/**
 * Password sign-in in a real browser (Debian's Chromium through playwright-core) against the real
 * server process, PostgreSQL and NATS: a wrong password is refused on the page, the right one
 * lands on the pipelines page with a session token (not the password) in sessionStorage, and
 * "Sign out" revokes that session on the server.
 */
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot, seriousViolations } from "./support/browser";
import { eventually } from "../../server/test/support/wait";
import { startStack, type Stack } from "./support/stack";

jest.setTimeout(60_000);

let stack: Stack;
let browser: Browser;
let page: Page;

const PASSWORD = "lanterns over the weir 9";

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  await stack.gql(
    `mutation { createUserV2(input: { name: "pia", displayName: "Pia" }) { clientMutationId } }`,
  );
  await stack.gql(
    `mutation { attachPolicyV2(input: { policyName: "ReadOnly", principal: "user/pia" }) { changed } }`,
  );
  await stack.gql(
    `mutation ($p: String!) { setUserPasswordV2(input: { userName: "pia", password: $p }) { userName } }`,
    { p: PASSWORD },
  );
  await stack.gql(
    `mutation { createPipelineV2(input: { pipeline: { name: "seen-by-pia", stages: [
      { name: "Source", actions: [{ name: "Checkout", actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
        configuration: { Repository: "file:///nowhere", Branch: "main" }, outputArtifacts: [{ name: "Src" }] }] },
      { name: "Gate", actions: [{ name: "Ok", actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" } }] }
    ] } }) { clientMutationId } }`,
  );
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const sessions = async () =>
  (await stack.gql(`{ apiTokensV2(principal: "user/pia", first: 100) { nodes { description revokedAt } } }`))
    .apiTokensV2.nodes as Array<{
    description: string;
    revokedAt: string | null;
  }>;

it("refuses a wrong password on the page, and keeps nothing", async () => {
  await page.goto(`${stack.web}/`);
  await page.waitForURL(/\/signin\?next=%2F$/);
  await page.getByLabel("User name", { exact: true }).fill("pia");
  await page.getByLabel("Password", { exact: true }).fill("not her password at all");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "Wrong user name or password." }).waitFor();
  await screenshot(page, "signin-password-refused");
  expect(await seriousViolations(page)).toEqual([]);
  expect(await page.evaluate(() => sessionStorage.getItem("sluice.token"))).toBeNull();
  expect(page.url()).toMatch(/\/signin/);
});

it("signs in with the password and shows the pipelines page; Sign out revokes the session", async () => {
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(`${stack.web}/`);
  await page.getByRole("heading", { name: "Pipelines" }).waitFor();
  await page.getByRole("link", { name: "seen-by-pia", exact: true }).first().waitFor();
  const token = await page.evaluate(() => sessionStorage.getItem("sluice.token"));
  expect(token).toMatch(/^slc_/);
  expect(token).not.toContain(PASSWORD);
  expect(await sessions()).toEqual([
    { description: "dashboard session (password sign-in)", revokedAt: null },
  ]);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/signin/);
  expect(await page.evaluate(() => sessionStorage.getItem("sluice.token"))).toBeNull();
  await eventually(async () => (await sessions())[0]!.revokedAt !== null, 10_000, "the session revoked");
});
