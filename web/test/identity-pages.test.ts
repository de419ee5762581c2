/**
 * The identity pages in a real browser against a real server (support/stack.ts): an administrator
 * creates a user, a policy and a role through /identity's forms (the policy editor shows the
 * server's problems while the document is being typed) and attaches the policy; a ReadOnly user finds the
 * identity controls disabled with the reason; /me shows who the caller is and what it may do, and
 * lists, creates and revokes the caller's own API tokens. Each page is checked with axe.
 */
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot, seriousViolations, signInWithLink } from "./support/browser";
import { ADMIN_TOKEN, startStack, type Stack } from "./support/stack";

jest.setTimeout(90_000);

let stack: Stack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await signInWithLink(page, stack.web, ADMIN_TOKEN);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function checkPage(target: Page, name: string) {
  await screenshot(target, name);
  expect(await seriousViolations(target)).toEqual([]);
}

/** The GraphQL endpoint with another token than the admin's. */
async function gqlAs(token: string, query: string): Promise<{ status: number; body: any }> {
  const response = await fetch(stack.server.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

const BAD_ACTION = JSON.stringify(
  {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "sluice:NoSuchThing", Resource: "srn:sluice:default:pipeline/web" },
    ],
  },
  null,
  2,
);
const GOOD = JSON.stringify(
  {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReleaseWeb",
        Effect: "Allow",
        Action: ["sluice:StartPipelineExecution"],
        Resource: ["srn:sluice:default:pipeline/web"],
      },
    ],
  },
  null,
  2,
);

it("lets an administrator create a user and a policy (checked as it is typed) and attach it", async () => {
  await page.goto(`${stack.web}/identity`);
  await page.getByRole("heading", { name: "Identity", level: 1 }).waitFor();
  await page.locator('tr[data-user="admin"]').waitFor();

  // A user, through the form.
  await page.getByRole("button", { name: "New user", exact: true }).click();
  const userForm = page.getByRole("dialog", { name: "New user" });
  await userForm.getByLabel("Name", { exact: true }).fill("nina");
  await userForm.getByLabel("E-mail (optional)").fill("nina@example.com");
  await userForm.getByRole("button", { name: "Create user" }).click();
  await page.getByRole("status").filter({ hasText: "User nina created." }).waitFor();
  await page.locator('tr[data-user="nina"]', { hasText: "nina@example.com" }).waitFor();

  // A policy: the editor says what is wrong while the document is typed, before any save.
  await page.getByRole("button", { name: "New policy", exact: true }).click();
  const policyForm = page.getByRole("dialog", { name: "New policy" });
  await policyForm.getByLabel("Name", { exact: true }).fill("nina-release");
  const documentField = policyForm.getByLabel("Document (JSON)");
  const check = policyForm.getByTestId("policy-check");
  await documentField.fill("");
  await documentField.pressSequentially('{ "Version": "2012-10-17", ');
  await check.filter({ hasText: "The document is not JSON." }).waitFor();
  await documentField.fill(BAD_ACTION);
  await policyForm
    .locator(".field-invalid .field-errors", {
      hasText: 'Statement[0].Action: "sluice:NoSuchThing" matches no Sluice action',
    })
    .waitFor();
  await check.filter({ hasText: "1 problem in the document." }).waitFor();
  expect(await documentField.getAttribute("aria-invalid")).toBe("true");
  await checkPage(page, "identity-policy-editor-error");
  // Nothing was saved by the checks.
  expect(
    (await stack.gql(`{ policiesV2(first: 100) { nodes { name } } }`)).policiesV2.nodes.map(
      (p: any) => p.name,
    ),
  ).not.toContain("nina-release");

  await documentField.fill(GOOD);
  await check.filter({ hasText: "The document is valid." }).waitFor();
  expect(await policyForm.locator(".field-errors").count()).toBe(0);
  await policyForm.getByRole("button", { name: "Create policy" }).click();
  await page.getByRole("status").filter({ hasText: "Policy nina-release created." }).waitFor();
  await page.locator('tr[data-policy-row="nina-release"]', { hasText: "nowhere" }).waitFor();

  // Attach it to the user.
  await page.getByLabel("Policy", { exact: true }).selectOption("nina-release");
  await page.getByLabel("To", { exact: true }).selectOption("user/nina");
  await page.getByRole("button", { name: "Attach", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "nina-release attached to user/nina." }).waitFor();
  await page.locator('tr[data-user="nina"] li[data-attached="nina-release"]').waitFor();
  await page.locator('tr[data-policy-row="nina-release"]', { hasText: "user/nina" }).waitFor();
  const saved = await stack.gql(
    `{ policyAttachmentsV2(first: 100) { nodes { policyName principal } } simulatePolicy(principal: "user/nina", action: "sluice:StartPipelineExecution", resource: "srn:sluice:default:pipeline/web") { allowed statement { policy sid } } }`,
  );
  expect(saved.policyAttachmentsV2.nodes).toEqual(
    expect.arrayContaining([{ policyName: "nina-release", principal: "user/nina" }]),
  );
  expect(saved.simulatePolicy).toEqual({
    allowed: true,
    statement: { policy: "nina-release", sid: "ReleaseWeb" },
  });

  // A role anyone may assume who its trust policy names (the form starts with the caller itself).
  await page.getByRole("button", { name: "New role", exact: true }).click();
  const roleForm = page.getByRole("dialog", { name: "New role" });
  await roleForm.getByLabel("Name", { exact: true }).fill("releaser");
  await roleForm.getByRole("button", { name: "Create role" }).click();
  await page.getByRole("status").filter({ hasText: "Role releaser created." }).waitFor();
  await page.locator('tr[data-role="releaser"]', { hasText: "srn:sluice:default:user/admin" }).waitFor();
  const roles = (await stack.gql(`{ rolesV2(first: 100) { nodes { name trustPolicy } } }`)).rolesV2.nodes;
  expect(roles.find((r: any) => r.name === "releaser").trustPolicy.Statement).toEqual([
    expect.objectContaining({ Effect: "Allow", Principal: ["srn:sluice:default:user/admin"] }),
  ]);

  // Managed policies cannot be changed: their buttons are disabled and say why.
  const editAdmin = page.getByRole("button", { name: "Edit policy Admin", exact: true });
  expect(await editAdmin.isDisabled()).toBe(true);
  expect(await editAdmin.getAttribute("title")).toBe(
    "Managed policies come with Sluice and cannot be changed or deleted.",
  );
  await checkPage(page, "identity-admin");

  // Detached again.
  await page.getByRole("button", { name: "Detach nina-release from user/nina" }).click();
  await page.getByRole("status").filter({ hasText: "nina-release detached from user/nina." }).waitFor();
  await page.locator('tr[data-user="nina"] li[data-attached="nina-release"]').waitFor({ state: "detached" });
});

it("disables the identity controls, saying why, for a ReadOnly user", async () => {
  await stack.gql(`mutation { createUserV2(input: { name: "viewer" }) { clientMutationId } }`);
  await stack.gql(
    `mutation { attachPolicyV2(input: { policyName: "ReadOnly", principal: "user/viewer" }) { changed } }`,
  );
  const { createApiTokenV2: createApiToken } = await stack.gql(
    `mutation { createApiTokenV2(input: { principal: "user/viewer", description: "identity test" }) { secret } }`,
  );
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const viewer = await context.newPage();
    viewer.setDefaultTimeout(20_000);
    await signInWithLink(viewer, stack.web, createApiToken.secret);
    await viewer.goto(`${stack.web}/identity`);
    await viewer.getByRole("heading", { name: "Identity", level: 1 }).waitFor();
    const reason = viewer.locator("#identity-read-only");
    await reason.waitFor();
    expect(await reason.textContent()).toContain(
      "user/viewer is not allowed sluice:ManageIdentity in account default",
    );
    for (const name of ["New user", "New group", "New service account", "New role", "New policy", "Attach"]) {
      const button = viewer.getByRole("button", { name, exact: true });
      expect([name, await button.isDisabled()]).toEqual([name, true]);
      expect(await button.getAttribute("title")).toBe(
        "user/viewer is not allowed sluice:ManageIdentity in account default",
      );
    }
    // Nothing of the administrator's lists reaches the page.
    expect(await viewer.locator("tr[data-user]").count()).toBe(0);
    await checkPage(viewer, "identity-read-only");

    // /me: who it is and what it may do; its own tokens' controls are disabled with the reason.
    await viewer.goto(`${stack.web}/me`);
    await viewer.getByRole("heading", { name: "Who am I", level: 1 }).waitFor();
    expect(await viewer.getByTestId("principal").textContent()).toBe("user/viewer");
    await viewer.locator('li[data-policy="ReadOnly"]', { hasText: "attached to user/viewer" }).waitFor();
    await viewer.locator('tr[data-permission="sluice:GetPipeline"][data-allowed="true"]').waitFor();
    await viewer.locator('tr[data-permission="sluice:UpdatePipeline"][data-allowed="false"]').waitFor();
    await viewer.locator('tr[data-permission="sluice:ManageIdentity"][data-allowed="false"]').waitFor();
    const tokensReason = viewer.locator("#tokens-read-only");
    await tokensReason.waitFor();
    expect(await tokensReason.textContent()).toContain(
      "user/viewer is not allowed sluice:ManageIdentity on srn:sluice:default:user/viewer",
    );
    const create = viewer.getByRole("button", { name: "Create token" });
    expect(await create.isDisabled()).toBe(true);
    expect(await create.getAttribute("title")).toBe(
      "user/viewer is not allowed sluice:ManageIdentity on srn:sluice:default:user/viewer",
    );
    await checkPage(viewer, "me-read-only");
  } finally {
    await context.close();
  }
});

it("shows who the administrator is on /me, and lists, creates and revokes its API tokens", async () => {
  await page.goto(`${stack.web}/me`);
  await page.getByRole("heading", { name: "Who am I", level: 1 }).waitFor();
  expect(await page.getByTestId("principal").textContent()).toBe("user/admin");
  await page.locator('li[data-policy="Admin"]').waitFor();
  await page.locator('tr[data-permission="sluice:ManageIdentity"][data-allowed="true"]').waitFor();
  await page.locator('tr[data-permission="sluice:ReadAudit"][data-allowed="true"]').waitFor();

  // A token made elsewhere is listed.
  await stack.gql(
    `mutation { createApiTokenV2(input: { principal: "user/admin", description: "from the CLI" }) { secret } }`,
  );
  await page.reload();
  await page.locator('tr[data-token="from the CLI"][data-revoked="false"]').waitFor();

  // A new one: its secret is shown once, and it works.
  await page.getByLabel("Description", { exact: true }).fill("laptop");
  await page.getByRole("button", { name: "Create token" }).click();
  const secretField = page.getByLabel(/Secret of “laptop”/);
  await secretField.waitFor();
  const secret = await secretField.inputValue();
  expect(secret).toMatch(/^slc_/);
  await page.locator('tr[data-token="laptop"][data-revoked="false"]').waitFor();
  const used = await gqlAs(secret, "{ whoAmI { principal } }");
  expect(used.body.data).toEqual({ whoAmI: { principal: "user/admin" } });
  await checkPage(page, "me-admin");

  // Revoked: refused from now on.
  await page.getByRole("button", { name: "Revoke token laptop" }).click();
  await page.getByRole("status").filter({ hasText: "Token “laptop” revoked." }).waitFor();
  await page.locator('tr[data-token="laptop"][data-revoked="true"]').waitFor();
  expect(await page.getByRole("button", { name: "Revoke token laptop" }).count()).toBe(0);
  const refused = await gqlAs(secret, "{ whoAmI { principal } }");
  expect(refused.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  const tokens = (
    await stack.gql(
      `{ apiTokensV2(principal: "user/admin", first: 100) { nodes { description revokedAt } } }`,
    )
  ).apiTokensV2.nodes;
  expect(tokens.find((t: any) => t.description === "laptop").revokedAt).not.toBeNull();
  expect(tokens.find((t: any) => t.description === "from the CLI").revokedAt).toBeNull();
});
