/**
 * Single sign-on in a real browser (Debian's Chromium through playwright-core) against a real
 * server, a real agent and a real OpenID provider (oidc-provider on a loopback port): the sign-in
 * page shows the SSO button, a sign-in cancelled at the provider comes back with its reason, and a
 * sign-in through the provider's login and consent pages lands on the pipelines page signed in as
 * the provider's user, in the Sluice group its provider group maps to. No request leaves the machine
 * (the provider's pages load Google Fonts: refused here).
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startOidcProvider, type TestProvider } from "../../server/test/support/oidc";
import { launchBrowser, screenshot, seriousViolations } from "./support/browser";
import { startStack, type Stack } from "./support/stack";

jest.setTimeout(90_000);

let stack: Stack;
let provider: TestProvider;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const leaving: string[] = [];

const isLocal = (url: string) => {
  const { protocol, hostname } = new URL(url);
  return protocol === "data:" || protocol === "blob:" || hostname === "127.0.0.1" || hostname === "localhost";
};

beforeAll(async () => {
  // The browser first: a missing Chromium fails before anything is started.
  browser = await launchBrowser();
  stack = await startStack({
    serverEnv: async ({ server, web }) => {
      provider = await startOidcProvider({
        redirectUris: [`${server}/auth/oidc/callback`],
        accounts: {
          "carol-sub": {
            preferred_username: "carol",
            name: "Carol Reader",
            email: "carol@example.com",
            groups: ["idp-readers"],
          },
        },
      });
      return {
        SLUICE_PUBLIC_URL: server,
        SLUICE_DASHBOARD_URL: web,
        SLUICE_OIDC_ISSUER: provider.issuer,
        SLUICE_OIDC_CLIENT_ID: provider.clientId,
        SLUICE_OIDC_CLIENT_SECRET: provider.clientSecret,
        SLUICE_OIDC_SCOPES: "openid profile email groups",
        SLUICE_OIDC_GROUP_MAP: "idp-readers=Readers",
        SLUICE_OIDC_BUTTON_LABEL: "Sign in with Acme SSO",
      };
    },
  });
  await stack.gql(`mutation { createGroupV2(input: { name: "Readers" }) { clientMutationId } }`);
  await stack.gql(
    `mutation { attachPolicyV2(input: { policyName: "ReadOnly", principal: "group/Readers" }) { changed } }`,
  );
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    leaving.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await provider?.stop();
});

async function toProviderLogin(): Promise<void> {
  await page.goto(`${stack.web}/`);
  // Signed out: the dashboard sends the browser to its sign-in page, which offers SSO.
  await page.waitForURL(`${stack.web}/signin?next=%2F`);
  await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.locator('input[name="login"]').waitFor();
}

it("a sign-in cancelled at the provider comes back to the sign-in page with its reason", async () => {
  await toProviderLogin();
  await page.getByRole("link", { name: "[ Cancel ]" }).click();
  await page.waitForURL((url) => url.href.startsWith(`${stack.web}/signin?`));
  await page
    .getByRole("alert")
    .filter({ hasText: "Sign-in was cancelled or refused at the identity provider." })
    .waitFor();
  await screenshot(page, "signin-sso-cancelled");
  expect(await seriousViolations(page)).toEqual([]);
});

it("signs in at the provider and lands on the pipelines page, signed in as its user", async () => {
  await toProviderLogin();
  await page.locator('input[name="login"]').fill("carol-sub");
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();

  await page.getByRole("heading", { name: "Pipelines" }).waitFor();
  // The token left the address bar (and the history) for this tab's session storage.
  expect(page.url()).toBe(`${stack.web}/`);
  const token = await page.evaluate(() => sessionStorage.getItem("sluice.token"));
  expect(token).toMatch(/^slc_/);
  const response = await fetch(stack.server.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ whoAmI { principal groups } }" }),
  });
  const who = (await response.json()) as { data: unknown };
  expect(who.data).toEqual({ whoAmI: { principal: "user/carol", groups: ["Readers"] } });
  await screenshot(page, "signin-sso-pipelines");

  // The provider's pages asked for Google Fonts; nothing reached past this machine.
  expect(leaving.every((url) => !isLocal(url))).toBe(true);
  expect(leaving.some((url) => url.includes("fonts.googleapis.com"))).toBe(true);
});
