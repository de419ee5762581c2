/**
 * The Notifications page's forms in a real browser against a real server (support/stack.ts):
 * create a target and a rule through them, see the server's complaint about a bad e-mail address
 * at its field, edit the target (its secret stays write-only), and delete both. Each form is
 * checked with axe. And the link of an approval-needed notification opens the approval's dialog.
 */
import type { Browser, Page } from "playwright-core";
import { eventually } from "../../server/test/support/wait";
import { launchBrowser, screenshot, seriousViolations, signInWithLink } from "./support/browser";
import { ADMIN_TOKEN, startStack, type Stack } from "./support/stack";

jest.setTimeout(90_000);

let stack: Stack;
let browser: Browser;
let page: Page;

const PIPELINE = "forms-demo";

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await stack.gql(
    `mutation ($input: PipelineInput!) { createPipelineV2(input: { pipeline: $input }) { clientMutationId } }`,
    {
      input: {
        name: PIPELINE,
        stages: [
          {
            name: "Source",
            actions: [
              {
                name: "Checkout",
                actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
                configuration: { Repository: `file://${stack.repo}`, Branch: "main" },
                outputArtifacts: [{ name: "Src" }],
              },
            ],
          },
          {
            name: "Prod",
            actions: [
              {
                name: "Approve",
                actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
              },
            ],
          },
        ],
      },
    },
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function checkPage(name: string) {
  await screenshot(page, name);
  expect(await seriousViolations(page)).toEqual([]);
}

const notifications = async () => {
  const data =
    await stack.gql(`{ notificationTargetsV2(first: 100) { nodes { id name kind url secret emailAddresses } }
               notificationRulesV2(first: 100) { nodes { id name pipelineName eventTypes targetIds detailLevel enabled
                                   filter { stageNames branches } } } }`);
  return {
    notificationTargets: data.notificationTargetsV2.nodes,
    notificationRules: data.notificationRulesV2.nodes,
  };
};

it("creates a target and a rule through the forms, shows a bad address at its field, and deletes both", async () => {
  await signInWithLink(page, stack.web, ADMIN_TOKEN);
  await page.goto(`${stack.web}/pipelines/${PIPELINE}/notifications`);
  await page.getByRole("heading", { name: `Notifications of ${PIPELINE}`, level: 1 }).waitFor();

  // A target with a bad address: the server's problem is shown at the addresses field, nothing saved.
  await page.getByRole("button", { name: "New target" }).click();
  const targetForm = page.getByRole("dialog", { name: "New notification target" });
  await targetForm.getByLabel("Name").fill("release-mail");
  await targetForm.getByLabel("Kind").selectOption("EMAIL");
  const addresses = targetForm.getByLabel("Addresses");
  await addresses.fill("ops@example.com\nnot-an-address");
  await targetForm.getByRole("button", { name: "Create target" }).click();
  await targetForm
    .locator(".field-invalid .field-errors", { hasText: '"not-an-address" is not an e-mail address' })
    .waitFor();
  expect(await addresses.getAttribute("aria-invalid")).toBe("true");
  await checkPage("notification-target-error");
  expect((await notifications()).notificationTargets).toEqual([]);

  // Fixed: created, and listed.
  await addresses.fill("ops@example.com, releases@example.com");
  await targetForm.getByRole("button", { name: "Create target" }).click();
  await page.getByRole("status").filter({ hasText: "Target release-mail created." }).waitFor();
  await page.locator('tr[data-target-row="release-mail"]', { hasText: "releases@example.com" }).waitFor();

  // A webhook target with a signing secret: the secret is never shown, and an edit keeps it.
  await page.getByRole("button", { name: "New target" }).click();
  await targetForm.getByLabel("Name").fill("release-hook");
  await targetForm.getByLabel("URL").fill("https://hooks.example.com/sluice");
  await targetForm.getByLabel("Signing secret (optional)").fill("whsec-forms-0123456789");
  await targetForm.getByRole("button", { name: "Create target" }).click();
  await page.locator('tr[data-target-row="release-hook"]', { hasText: "signed" }).waitFor();
  await page.getByRole("button", { name: "Edit target release-hook" }).click();
  const editForm = page.getByRole("dialog", { name: "Edit target release-hook" });
  expect(await editForm.getByLabel("Signing secret (optional)").inputValue()).toBe("");
  expect(await editForm.getByLabel("Kind").isDisabled()).toBe(true);
  await editForm.getByLabel("URL").fill("https://hooks.example.com/sluice/v2");
  await editForm.getByRole("button", { name: "Save target" }).click();
  await page.getByRole("status").filter({ hasText: "Target release-hook saved." }).waitFor();
  const hook = (await notifications()).notificationTargets.find((t: any) => t.name === "release-hook");
  expect(hook).toMatchObject({ url: "https://hooks.example.com/sluice/v2", secret: "****" });

  // A rule: no event picked is refused at the events; then created with its events, target, filter.
  await page.getByRole("button", { name: "New rule" }).click();
  const ruleForm = page.getByRole("dialog", { name: "New notification rule" });
  await ruleForm.getByLabel("Name").fill("prod-approvals");
  await ruleForm.getByRole("checkbox", { name: /^release-mail/ }).check();
  await ruleForm.getByRole("button", { name: "Create rule" }).click();
  await ruleForm
    .locator("fieldset.field-invalid", { hasText: "needs at least one event type" })
    .getByText("Events")
    .waitFor();
  await ruleForm.getByRole("checkbox", { name: "approval needed" }).check();
  await ruleForm.getByRole("checkbox", { name: "execution failed" }).check();
  await ruleForm.getByRole("checkbox", { name: "Prod", exact: true }).check();
  await ruleForm.getByLabel("Only these branches (optional)").fill("main, release");
  await ruleForm.getByLabel("Detail").selectOption("FULL");
  await checkPage("notification-rule-form");
  await ruleForm.getByRole("button", { name: "Create rule" }).click();
  await page.getByRole("status").filter({ hasText: "Rule prod-approvals created." }).waitFor();
  const ruleRow = page.locator('tr[data-rule="prod-approvals"]');
  await ruleRow.locator('li[data-target="release-mail"]').waitFor();
  const saved = await notifications();
  const mail = saved.notificationTargets.find((t: any) => t.name === "release-mail");
  expect(mail.emailAddresses).toEqual(["ops@example.com", "releases@example.com"]);
  expect(saved.notificationRules).toEqual([
    {
      id: expect.any(String),
      name: "prod-approvals",
      pipelineName: PIPELINE,
      eventTypes: ["EXECUTION_FAILED", "APPROVAL_NEEDED"],
      targetIds: [mail.id],
      detailLevel: "FULL",
      enabled: true,
      filter: { stageNames: ["Prod"], branches: ["main", "release"] },
    },
  ]);
  await checkPage("notifications-with-forms");

  // A target a rule sends to cannot be deleted: the server says which rule.
  await page.getByRole("button", { name: "Delete target release-mail" }).click();
  await page.getByRole("status").filter({ hasText: "used by rule prod-approvals" }).waitFor();

  // Delete the rule, then the targets.
  await ruleRow.getByRole("button", { name: "Delete rule prod-approvals" }).click();
  await page.getByRole("status").filter({ hasText: "Rule prod-approvals deleted." }).waitFor();
  await ruleRow.waitFor({ state: "detached" });
  await page.getByRole("button", { name: "Delete target release-mail" }).click();
  await page.getByRole("status").filter({ hasText: "Target release-mail deleted." }).waitFor();
  await page.getByRole("button", { name: "Delete target release-hook" }).click();
  await page.locator('tr[data-target-row="release-hook"]').waitFor({ state: "detached" });
  const after = await notifications();
  expect(after.notificationRules).toEqual([]);
  expect(after.notificationTargets).toEqual([]);
});

it("disables the changing buttons, saying why, for a user not allowed sluice:ManageNotifications", async () => {
  await stack.gql(`mutation { createUserV2(input: { name: "viewer" }) { clientMutationId } }`);
  await stack.gql(
    `mutation { attachPolicyV2(input: { policyName: "ReadOnly", principal: "user/viewer" }) { changed } }`,
  );
  const { createApiTokenV2: createApiToken } = await stack.gql(
    `mutation { createApiTokenV2(input: { principal: "user/viewer", description: "forms test" }) { secret } }`,
  );
  await stack.gql(
    `mutation ($t: NotificationTargetInput!) { createNotificationTargetV2(input: { target: $t }) { clientMutationId } }`,
    {
      t: { name: "seen-not-touched", kind: "NATS", subject: "viewer.test" },
    },
  );
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const viewer = await context.newPage();
    await signInWithLink(viewer, stack.web, createApiToken.secret);
    await viewer.goto(`${stack.web}/pipelines/${PIPELINE}/notifications`);
    await viewer.locator('tr[data-target-row="seen-not-touched"]').waitFor();
    const reason = viewer.locator("#notifications-read-only");
    await reason.waitFor();
    expect(await reason.textContent()).toContain("user/viewer is not allowed sluice:ManageNotifications");
    for (const name of [
      "New target",
      "New rule",
      "Edit target seen-not-touched",
      "Delete target seen-not-touched",
    ]) {
      const button = viewer.getByRole("button", { name, exact: true });
      expect(await button.isDisabled()).toBe(true);
      expect(await button.getAttribute("title")).toBe(
        "user/viewer is not allowed sluice:ManageNotifications",
      );
    }
    expect(await seriousViolations(viewer)).toEqual([]);
  } finally {
    await context.close();
  }
  // The admin's page has them enabled (the forms above were used through them).
  await page.goto(`${stack.web}/pipelines/${PIPELINE}/notifications`);
  await page.locator('tr[data-target-row="seen-not-touched"]').waitFor();
  expect(await page.getByRole("button", { name: "New target", exact: true }).isDisabled()).toBe(false);
  expect(await page.locator("#notifications-read-only").count()).toBe(0);
});

it("opens the approval's review dialog from the link an approval-needed notification carries", async () => {
  // The pipeline's first execution ran its source on the stack's agent and waits in Prod.
  const approval = await eventually(
    async () => {
      const { pipeline } = await stack.gql(
        `query ($p: String!) { pipeline(name: $p) { executions(first: 1) { nodes { stages { name actions { id approvalPending } } } } } }`,
        { p: PIPELINE },
      );
      const action = pipeline.executions.nodes[0]?.stages.find((st: any) => st.name === "Prod")?.actions[0];
      return action?.approvalPending ? (action.id as string) : undefined;
    },
    60_000,
    "the approval waiting in Prod",
  );
  await page.goto(`${stack.web}/pipelines/${PIPELINE}?approval=${approval}`);
  const dialog = page.getByRole("dialog", { name: "Review Approve" });
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Approve", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Approve approved." }).waitFor();

  // The same link once the approval is decided: the page says so instead of opening a dialog.
  await page.goto(`${stack.web}/pipelines/${PIPELINE}?approval=${approval}`);
  await page.getByRole("status").filter({ hasText: "no longer waits" }).waitFor();
  expect(await page.getByRole("dialog").count()).toBe(0);
});
