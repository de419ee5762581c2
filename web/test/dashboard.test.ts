/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * server and a real agent: sign in, watch a release move through its stages without reloading,
 * hold it at a disabled transition, approve it, read its execution and logs, see the agents, and
 * lose the connection and get it back; build a pipeline in the editor and release it, see a
 * validation error at its field and a version conflict, copy the pipeline, give it schedules,
 * variables and a retry policy through the forms (the server's complaints at their fields), read a
 * pipeline's history with its status filter (in the address) and duration chart, and read the audit
 * log of all that (a refusal with its code, filters in the address, older pages). Each page is screenshotted
 * (test/screenshots/) and checked with axe: no serious or critical violation.
 */
import fs from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  launchBrowser,
  measureFirstLoad,
  SCREENSHOTS,
  screenshot,
  seriousViolations,
} from "./support/browser";
import { connectNats } from "../../server/test/support/nats";
import { eventually } from "../../server/test/support/wait";
import { ADMIN_TOKEN, startStack, type Stack } from "./support/stack";

jest.setTimeout(60_000);

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const PIPELINE = "web-release";
/** The pipeline the editor tests create. */
const EDITED = "editor-made";

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const shell = (category: string, name: string, extra: Record<string, unknown>) => ({
  name,
  actionTypeId: { category, owner: "Sluice", provider: "Shell", version: "1" },
  ...extra,
});

async function createPipeline(name: string) {
  await stack.gql(
    `mutation ($input: PipelineInput!) { createPipelineV2(input: { pipeline: $input }) { pipeline { name } } }`,
    {
      input: {
        name,
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
            name: "Build",
            actions: [
              shell("Build", "Make", {
                inputArtifacts: [{ name: "Src" }],
                outputArtifacts: [{ name: "Bin" }],
                configuration: {
                  Commands: [
                    "echo building",
                    "printf '\\033[32mcompiled ok\\033[0m\\n'",
                    "mkdir -p out && cp app.txt out/",
                  ].join("\n"),
                  OutputFiles: "out/**",
                },
              }),
              shell("Test", "Lint", {
                inputArtifacts: [{ name: "Src" }],
                configuration: { Commands: "echo lint ok" },
              }),
            ],
          },
          {
            name: "Approve",
            actions: [
              {
                name: "Gate",
                actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
                configuration: {
                  CustomData: "Check the staging smoke tests first.",
                  ExternalEntityLink: "https://staging.example.com/web",
                },
              },
            ],
          },
          {
            name: "Deploy",
            actions: [
              shell("Deploy", "Ship", {
                inputArtifacts: [{ name: "Bin" }],
                configuration: { Commands: 'cat "$SLUICE_INPUT_Bin/out/app.txt"' },
              }),
            ],
          },
        ],
      },
    },
  );
}

/**
 * Creating a pipeline starts an execution (as CodePipeline does); the scenario releases its own
 * change, so the automatic one is abandoned first.
 */
async function abandonFirstRun(name: string) {
  const first = async () =>
    (
      await stack.gql(
        `query ($n: String!) { pipeline(name: $n) { executions(first: 1) { nodes { id status } } } }`,
        {
          n: name,
        },
      )
    ).pipeline.executions.nodes[0];
  const { id } = await eventually(first, 10_000, `the first execution of ${name}`);
  await stack.gql(
    `mutation ($id: ID!) { stopPipelineExecution(input: { executionId: $id, abandon: true, reason: "test" }) { clientMutationId } }`,
    { id },
  );
  await eventually(async () => (await first()).status === "Stopped", 20_000, `${name} to stop`);
}

/** Screenshot and axe for the page as it is now. */
async function checkPage(name: string) {
  await screenshot(page, name);
  expect(await seriousViolations(page)).toEqual([]);
}

const stage = (name: string) => page.locator(`section[data-stage="${name}"]`);
const stageStatus = (name: string, text: string) =>
  stage(name).locator(".stage-status", { hasText: text }).waitFor({ timeout: 30_000 });

/** The editor's stage and action panels, by their place in the document. */
const editStage = (i: number) => page.locator(`section[data-path="stages[${i}]"]`);
const editAction = (i: number, j: number) => page.locator(`li[data-path="stages[${i}].actions[${j}]"]`);

/** Marks the document: the mark survives everything but a reload. */
async function markDocument() {
  await page.evaluate(() => ((window as unknown as { sluiceMark: number }).sluiceMark = 1));
}
async function notReloaded(): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { sluiceMark?: number }).sluiceMark === 1);
}

describe("the dashboard against a real server and agent", () => {
  it("asks for the API token at /signin, refuses a wrong one, and keeps a good one for the session", async () => {
    await page.goto(`${stack.web}/agents`);
    await page.waitForURL(/\/signin\?next=%2Fagents$/);
    await checkPage("signin");
    // A password first; the API token behind a disclosure (password-signin.test.ts signs in with one).
    await page.getByText("Use an API token").click();
    await page.getByLabel("API token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in with the token" }).click();
    await page.getByRole("alert").filter({ hasText: "refused" }).waitFor();
    await page.getByLabel("API token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in with the token" }).click();
    await page.waitForURL(`${stack.web}/agents`);
    expect(await page.evaluate(() => sessionStorage.getItem("sluice.token"))).toBe(ADMIN_TOKEN);
  });

  it("lists the agent with its pool, status and heartbeat", async () => {
    const row = page.locator('tr[data-agent="web-agent"]');
    await row.filter({ hasText: /online|busy/ }).waitFor();
    expect(await row.textContent()).toContain("default");
    await checkPage("agents");
  });

  it("lists the pipelines with their stages, live, and searches them by name", async () => {
    await page.getByRole("link", { name: "Pipelines" }).click();
    await page.getByText("No pipelines yet.").waitFor();
    await markDocument();
    await createPipeline(PIPELINE);
    await createPipeline("another-pipeline");
    await Promise.all([abandonFirstRun(PIPELINE), abandonFirstRun("another-pipeline")]);
    // Created through the API: the list shows them without a reload.
    await page.getByRole("link", { name: PIPELINE, exact: true }).waitFor();
    await page.getByRole("link", { name: "another-pipeline", exact: true }).waitFor();
    await page.getByLabel("Search by name").fill("release");
    await page.getByRole("link", { name: "another-pipeline", exact: true }).waitFor({ state: "detached" });
    expect(await page.locator("tbody tr").count()).toBe(1);
    expect(await notReloaded()).toBe(true);
    await checkPage("pipelines");
  });

  it("releases a change and shows the stages turn green without reloading", async () => {
    await page.getByRole("link", { name: PIPELINE, exact: true }).click();
    await page.getByRole("heading", { name: PIPELINE, level: 1 }).waitFor();
    await markDocument();
    await page.getByRole("button", { name: "Release change" }).click();
    await page.getByRole("status").filter({ hasText: "Released: execution" }).waitFor();
    await stageStatus("Source", "Succeeded");
    await stageStatus("Build", "Succeeded");
    // Parallel actions sit side by side in one run order.
    expect(await stage("Build").locator(".run-order").first().locator("article").count()).toBe(2);
    await stage("Approve").getByText("Waiting for approval").waitFor();
    expect(await notReloaded()).toBe(true);
    await screenshot(page, "pipeline-approval");
  });

  it("disables the Deploy transition through its dialog, and the approved execution waits there with the reason", async () => {
    await page.getByRole("button", { name: "Disable transition into Deploy" }).click();
    const dialog = page.getByRole("dialog", { name: "Disable the transition into Deploy" });
    await dialog.getByLabel("Reason").fill("freeze for the demo");
    await dialog.getByRole("button", { name: "Disable transition", exact: true }).click();
    await page.locator(".transition-off", { hasText: "freeze for the demo" }).waitFor();

    await page.getByRole("button", { name: "Approve or reject Gate" }).click();
    const review = page.getByRole("dialog", { name: "Review Gate" });
    // What the reviewer needs: the note, the link to look at, and the revision.
    await review.getByText("Check the staging smoke tests first.").waitFor();
    expect(
      await review.getByRole("link", { name: "https://staging.example.com/web" }).getAttribute("href"),
    ).toBe("https://staging.example.com/web");
    expect(await review.locator('[data-approval="revisions"]').textContent()).toMatch(
      /Checkout: [0-9a-f]{12}/,
    );
    await checkPage("approval-dialog");
    await review.getByLabel("Comment").fill("ship it");
    await review.getByRole("button", { name: "Approve", exact: true }).click();
    await stageStatus("Approve", "Succeeded");
    await stage("Deploy")
      .locator(".waiting", { hasText: "disabled by user/admin: freeze for the demo" })
      .waitFor();
    // The in-flight list says why in words, with the machine-readable code beside it.
    await page
      .locator('.in-flight li[data-waiting="TRANSITION_DISABLED"]', { hasText: "freeze for the demo" })
      .waitFor();
    expect(await notReloaded()).toBe(true);
    await checkPage("pipeline-waiting");

    // So does the pipeline list (another tab).
    const list = await context.newPage();
    try {
      await list.goto(`${stack.web}/#token=${ADMIN_TOKEN}`);
      await list
        .locator('li[data-waiting="TRANSITION_DISABLED"]', { hasText: "freeze for the demo" })
        .waitFor();
    } finally {
      await list.close();
    }

    // The compact view: stages as columns in order, the disabled transition marked, in the address.
    await page.getByRole("button", { name: "Compact", exact: true }).click();
    await page.waitForURL(`${stack.web}/pipelines/${PIPELINE}?view=compact`);
    expect(
      await page
        .locator("[data-compact-stage]")
        .evaluateAll((s) => s.map((e) => e.getAttribute("data-compact-stage"))),
    ).toEqual(["Source", "Build", "Approve", "Deploy"]);
    await page
      .locator('[data-compact-stage="Deploy"]')
      .getByRole("button", { name: /Enable the transition into Deploy \(disabled: freeze for the demo\)/ })
      .waitFor();
    expect(await page.locator('[data-compact-stage="Build"] .compact-actions li').count()).toBe(2);
    expect(await stage("Deploy").isVisible()).toBe(false);
    await checkPage("pipeline-compact");
    await page.getByRole("button", { name: "Detailed", exact: true }).click();
    await page.waitForURL(`${stack.web}/pipelines/${PIPELINE}`);
    await stage("Deploy").waitFor();
  });

  it("enables the transition again, and the execution goes through Deploy", async () => {
    await page.getByRole("button", { name: "Enable transition into Deploy" }).click();
    const dialog = page.getByRole("dialog", { name: "Enable the transition into Deploy" });
    await dialog.getByRole("button", { name: "Enable transition", exact: true }).click();
    await stageStatus("Deploy", "Succeeded");
    await page.getByText("No execution is running.").waitFor();
    expect(await notReloaded()).toBe(true);
    await checkPage("pipeline-done");
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage("pipeline-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("shows the execution: timeline, artifacts to download, variables and who approved", async () => {
    await stage("Deploy").locator(".stage-revision a").click();
    await page.getByRole("heading", { name: "Timeline" }).waitFor();
    await page.locator("section", { hasText: "Approvals" }).getByText("approved by user/admin").waitFor();
    expect(await page.locator("section", { hasText: "Approvals" }).textContent()).toContain("ship it");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download Bin" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("Bin.tar.gz");
    const bytes = fs.readFileSync((await file.path())!);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip
    await checkPage("execution");
  });

  it("shows an action's log with its ANSI colours, and searches it", async () => {
    await page.getByRole("link", { name: "Make" }).click();
    await page.getByRole("heading", { name: "Logs of Build / Make" }).waitFor();
    await page.locator(".log .ansi-green-fg", { hasText: "compiled ok" }).waitFor();
    await page.getByLabel("Search").fill("building");
    await page.getByText(/^[1-9]\d* matching lines?$/).waitFor();
    expect(await page.locator(".log-match").first().textContent()).toContain("building");
    await checkPage("logs");
  });

  it("says it is reconnecting when the connection is lost, and shows what changed meanwhile", async () => {
    await page.goto(`${stack.web}/pipelines/${PIPELINE}`);
    await stageStatus("Deploy", "Succeeded");
    await markDocument();
    stack.proxy.disconnect();
    await page.getByRole("status").filter({ hasText: "Reconnecting…" }).waitFor();
    await screenshot(page, "pipeline-reconnecting");
    // A change the page cannot hear about while it is cut off.
    await stack.gql(
      `mutation { disableStageTransition(input: { pipelineName: "${PIPELINE}", stageName: "Build", reason: "changed while offline" }) { transition { enabled } } }`,
    );
    stack.proxy.restore();
    await page.locator(".transition-off", { hasText: "changed while offline" }).waitFor();
    await page.getByRole("status").filter({ hasText: "Reconnecting…" }).waitFor({ state: "detached" });
    expect(await notReloaded()).toBe(true);
  });

  it("creates a pipeline in the editor: stages, a Git source through its form, a Shell build; then releases it", async () => {
    await page.goto(`${stack.web}/`);
    await page.getByRole("link", { name: "New pipeline" }).click();
    await page.getByRole("heading", { name: "New pipeline", level: 1 }).waitFor();
    await page.getByLabel("Pipeline name").fill(EDITED);

    // The first stage (named Source) gets a Git source: its form comes from the action type's properties.
    const source = editStage(0);
    await source.getByRole("button", { name: "Add action" }).click();
    const checkout = editAction(0, 0);
    expect(await checkout.getByLabel("Action type").inputValue()).toBe("Source/Sluice/Git/1");
    await checkout.getByLabel("Action name").fill("Checkout");
    await checkout.getByLabel("Repository").fill(`file://${stack.repo}`);
    await checkout.getByLabel("Branch").fill("main");
    await checkout.getByLabel("Output artifacts").fill("Src");

    // The second stage (named Build) gets a Shell build.
    await editStage(1).getByRole("button", { name: "Add action" }).click();
    const compile = editAction(1, 0);
    expect(await compile.getByLabel("Action type").inputValue()).toBe("Build/Sluice/Shell/1");
    await compile.getByLabel("Action name").fill("Compile");
    await compile.getByLabel("Input artifacts").fill("Src");
    await compile.getByLabel("Commands").fill("echo built by the editor");

    // A third stage, a Test action in it, then moved before Build.
    await page.getByRole("button", { name: "Add stage", exact: true }).click();
    await editStage(2).getByLabel("Stage name").fill("Check");
    await editStage(2).getByRole("button", { name: "Add action" }).click();
    const verify = editAction(2, 0);
    await verify.getByLabel("Action name").fill("Verify");
    await verify.getByLabel("Action type").selectOption({ label: "Test · Shell" });
    await verify.getByLabel("Input artifacts").fill("Src");
    await verify.getByLabel("Commands").fill("echo verified");
    await page.getByRole("button", { name: "Move up stage Check" }).click();
    expect(await editStage(1).getByLabel("Stage name").inputValue()).toBe("Check");
    await checkPage("editor-new");

    // Every control, scrolled to by focus (as Tab does), ends above the sticky save bar.
    const covered = await page.evaluate(() => {
      const bar = document.querySelector(".save-bar")!;
      const under: string[] = [];
      const controls = Array.from(
        document.querySelectorAll<HTMLElement>("form input, form select, form textarea, form button"),
      );
      for (const control of controls) {
        if (bar.contains(control) || control.offsetParent === null) continue;
        control.focus();
        const box = control.getBoundingClientRect();
        const barBox = bar.getBoundingClientRect();
        if (box.bottom > barBox.top + 1 && box.top < barBox.bottom)
          under.push(
            control.id || control.getAttribute("aria-label") || control.textContent || control.tagName,
          );
      }
      return under;
    });
    expect(covered).toEqual([]);

    await page.getByRole("button", { name: "Create pipeline" }).click();
    await page.waitForURL(`${stack.web}/pipelines/${EDITED}`);
    await page.getByRole("heading", { name: EDITED, level: 1 }).waitFor();
    expect(
      await page
        .locator("section[data-stage]")
        .evaluateAll((s) => s.map((e) => e.getAttribute("data-stage"))),
    ).toEqual(["Source", "Check", "Build"]);
    await page.getByRole("button", { name: "Release change" }).click();
    await page.getByRole("status").filter({ hasText: "Released: execution" }).waitFor();
    await stageStatus("Build", "Succeeded");
  });

  it("shows a validation error at the field it concerns: an empty required Commands", async () => {
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await page.getByRole("heading", { name: `Edit ${EDITED}`, level: 1 }).waitFor();
    await page.getByRole("button", { name: "Edit action Compile" }).click();
    const commands = editAction(2, 0).getByLabel("Commands");
    await commands.fill("");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "1 problem stops this pipeline from saving" }).waitFor();
    expect(await commands.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (await commands.getAttribute("aria-describedby"))!.split(" ");
    const message = await page.locator(`[id="${describedBy[describedBy.length - 1]}"]`).textContent();
    expect(message).toMatch(/Commands/);
    // The summary links to the field.
    await page.locator("#editor-problems a", { hasText: "Stage Build › action Compile › Commands" }).click();
    expect(await commands.evaluate((e) => e === document.activeElement)).toBe(true);
    await checkPage("editor-invalid");
  });

  it("says so when someone else changed the pipeline while the editor was open, and saves over it on request", async () => {
    await editAction(2, 0).getByLabel("Commands").fill("echo fixed");
    // A change through the API meanwhile: version 2.
    const { pipeline } = await stack.gql(`query ($n: String!) { pipeline(name: $n) { version document } }`, {
      n: EDITED,
    });
    await stack.gql(
      `mutation ($input: PipelineInput!, $v: Int!) { updatePipelineV2(input: { pipeline: $input, expectedVersion: $v }) { pipeline { version } } }`,
      { input: { ...pipeline.document, executionMode: "QUEUED" }, v: pipeline.version },
    );
    await page.getByRole("button", { name: "Save changes" }).click();
    const conflict = page.getByRole("alert").filter({ hasText: "changed while you were editing it" });
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain(`version ${pipeline.version + 1} was saved by user/admin`);
    await checkPage("editor-conflict");
    await conflict.getByRole("button", { name: `Save mine over version ${pipeline.version + 1}` }).click();
    await page
      .getByRole("status")
      .filter({ hasText: `Saved as version ${pipeline.version + 2}.` })
      .waitFor();
    const saved = await stack.gql(`query ($n: String!) { pipeline(name: $n) { document } }`, { n: EDITED });
    expect(saved.pipeline.document.stages[2].actions[0].configuration.Commands).toBe("echo fixed");
    expect(saved.pipeline.document.executionMode).toBe("SUPERSEDED");
  });

  it("copies the pipeline under a new name, even the name new", async () => {
    await page.getByRole("link", { name: "Back to the pipeline" }).click();
    await page.getByRole("heading", { name: EDITED, level: 1 }).waitFor();
    await page.getByRole("link", { name: "Copy", exact: true }).click();
    await page.getByRole("heading", { name: `Copy ${EDITED}`, level: 1 }).waitFor();
    expect(await page.getByLabel("Pipeline name").inputValue()).toBe(`${EDITED}-copy`);
    expect(page.url()).toBe(`${stack.web}/new?from=${EDITED}`);
    // Named "new": its page is /pipelines/new, no longer the create page (that is /new).
    await page.getByLabel("Pipeline name").fill("new");
    await page.getByRole("button", { name: "Create pipeline" }).click();
    await page.waitForURL(`${stack.web}/pipelines/new`);
    await page.getByRole("heading", { name: "new", exact: true, level: 1 }).waitFor();
    await stage("Check").waitFor();
    const copy = await stack.gql(`query ($n: String!) { pipeline(name: $n) { document } }`, {
      n: "new",
    });
    expect(copy.pipeline.document.stages.map((s: { name: string }) => s.name)).toEqual([
      "Source",
      "Check",
      "Build",
    ]);
  });

  it("edits the pipeline's schedules, with the server's complaints at the cron and time zone fields", async () => {
    await page.goto(`${stack.web}/pipelines/${EDITED}/edit`);
    await page.getByRole("heading", { name: `Edit ${EDITED}`, level: 1 }).waitFor();
    await page.getByRole("button", { name: "Add schedule" }).click();
    const cron = page.getByLabel("Cron 1", { exact: true });
    const zone = page.getByLabel("Time zone 1", { exact: true });
    await cron.fill("61 6 * * *");
    await zone.fill("Mars/Olympus");
    await page.getByRole("button", { name: "Save changes" }).click();
    // Each field is invalid and described by its own message.
    for (const [field, message] of [
      [cron, "cron"],
      [zone, "IANA time zone"],
    ] as const) {
      const id = await field.getAttribute("id");
      await page.locator(`#${id}[aria-invalid="true"]`).waitFor();
      expect(await field.getAttribute("aria-describedby")).toContain(`${id}-error`);
      expect(await page.locator(`#${id}-error`).textContent()).toContain(message);
    }
    await page.locator("#editor-problems a", { hasText: "Schedule 1 › Cron" }).waitFor();
    await checkPage("editor-schedules");

    await cron.fill("0 6 * * 1-5");
    await zone.fill("Europe/Paris");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").filter({ hasText: "Saved as version" }).waitFor();
    const saved = await stack.gql(
      `query ($n: String!) { pipeline(name: $n) { schedules { cron timezone } } }`,
      {
        n: EDITED,
      },
    );
    expect(saved.pipeline.schedules).toEqual([{ cron: "0 6 * * 1-5", timezone: "Europe/Paris" }]);
  });

  it("edits the pipeline's variables and an action's retry policy, with the server's complaints at their fields", async () => {
    await page.goto(`${stack.web}/pipelines/${EDITED}/edit`);
    await page.getByRole("heading", { name: `Edit ${EDITED}`, level: 1 }).waitFor();
    await page.getByText("No variable.").waitFor();
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.getByLabel("Variable name 1", { exact: true }).fill("Greeting");
    await page.getByLabel("Default value 1", { exact: true }).fill("hello");
    await page.getByLabel("Description 1", { exact: true }).fill("What Compile says");
    await page.getByRole("button", { name: "Add variable" }).click();
    const badName = page.getByLabel("Variable name 2", { exact: true });
    await badName.fill("not a name");

    // Compile (Build, the third stage) reads the variable and gets a custom retry policy, 11 attempts.
    await page.getByRole("button", { name: "Edit action Compile" }).click();
    const compile = editAction(2, 0);
    await compile.getByLabel("Commands").fill("echo #{variables.Greeting}");
    expect(await compile.getByLabel(/^Default \(retried when its agent is lost/).isChecked()).toBe(true);
    await compile.getByLabel("Custom", { exact: true }).check();
    const attempts = compile.getByLabel("Attempts", { exact: true });
    expect(await attempts.inputValue()).toBe("3");
    expect(await compile.getByLabel("Agent lost", { exact: true }).isChecked()).toBe(true);
    await attempts.fill("11");
    await compile.getByLabel("Seconds between attempts", { exact: true }).fill("5");
    await compile.getByLabel("Failed", { exact: true }).check();
    expect(await compile.getByLabel("Timed out", { exact: true }).isChecked()).toBe(false);
    await page.getByRole("button", { name: "Save changes" }).click();

    await page.getByRole("heading", { name: "2 problems stop this pipeline from saving" }).waitFor();
    for (const [field, message] of [
      [attempts, "from 1 to 10"],
      [badName, "not a name"],
    ] as const) {
      const id = await field.getAttribute("id");
      await page.locator(`#${id}[aria-invalid="true"]`).waitFor();
      expect(await field.getAttribute("aria-describedby")).toContain(`${id}-error`);
      expect(await page.locator(`#${id}-error`).textContent()).toContain(message);
    }
    await page.locator("#editor-problems a", { hasText: "Variable 2 › Name" }).waitFor();
    await page
      .locator("#editor-problems a", { hasText: "Stage Build › action Compile › Retry policy › Attempts" })
      .click();
    expect(await attempts.evaluate((e) => e === document.activeElement)).toBe(true);
    await checkPage("editor-variables-retry");

    await page.getByRole("button", { name: "Remove variable 2" }).click();
    await attempts.fill("4");
    // The JSON view holds both, and what is changed there comes back into the forms.
    await page.getByRole("button", { name: "JSON", exact: true }).click();
    const json = page.getByLabel("Pipeline document (JSON)");
    const shown = JSON.parse(await json.inputValue());
    expect(shown.variables).toEqual([
      { name: "Greeting", defaultValue: "hello", description: "What Compile says" },
    ]);
    expect(shown.stages[2].actions[0].retryPolicy).toEqual({
      maxAttempts: 4,
      backoffSeconds: 5,
      on: ["AGENT_LOST", "FAILED"],
    });
    expect(shown.stages[0].actions[0]).not.toHaveProperty("retryPolicy");
    shown.variables[0].defaultValue = "hello there";
    shown.stages[2].actions[0].retryPolicy.backoffSeconds = 10;
    await json.fill(JSON.stringify(shown, null, 2));
    await page.getByRole("button", { name: "Form", exact: true }).click();
    expect(await page.getByLabel("Default value 1", { exact: true }).inputValue()).toBe("hello there");
    await page.getByRole("button", { name: "Edit action Compile" }).click();
    expect(await compile.getByLabel("Seconds between attempts", { exact: true }).inputValue()).toBe("10");
    expect(await compile.getByLabel("Custom", { exact: true }).isChecked()).toBe(true);

    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").filter({ hasText: "Saved as version" }).waitFor();
    const saved = await stack.gql(`query ($n: String!) { pipeline(name: $n) { document } }`, { n: EDITED });
    const document = saved.pipeline.document;
    expect(document.variables).toEqual([
      { name: "Greeting", defaultValue: "hello there", description: "What Compile says" },
    ]);
    expect(document.stages[2].actions[0].configuration.Commands).toBe("echo #{variables.Greeting}");
    expect(document.stages[2].actions[0].retryPolicy).toEqual({
      maxAttempts: 4,
      backoffSeconds: 10,
      on: ["AGENT_LOST", "FAILED"],
    });
    expect(document.stages[0].actions[0]).not.toHaveProperty("retryPolicy");
  });

  it("lists a pipeline's executions with a status filter and a duration chart, live", async () => {
    await page.goto(`${stack.web}/pipelines/${PIPELINE}`);
    await page.getByRole("link", { name: "History", exact: true }).click();
    await page.getByRole("heading", { name: `History of ${PIPELINE}`, level: 1 }).waitFor();
    const rows = page.locator("tr[data-execution]");
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2); // the abandoned first run and the released one
    const chart = page.locator('svg[role="img"]');
    await chart.waitFor();
    expect(await page.locator("figcaption").textContent()).toContain(
      "Durations of the last 2 finished executions",
    );
    expect(await chart.locator("rect.chart-bar").count()).toBe(2);

    await page.getByLabel("Status").selectOption("Succeeded");
    await rows.filter({ hasText: "Stopped" }).waitFor({ state: "detached" });
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain("Succeeded");
    await checkPage("history");

    // A release made elsewhere shows up without a reload.
    await markDocument();
    await page.getByLabel("Status").selectOption("");
    await rows.nth(1).waitFor();
    const released = (
      await stack.gql(
        `mutation { startPipelineExecution(input: { pipelineName: "${PIPELINE}" }) { pipelineExecution { id } } }`,
      )
    ).startPipelineExecution.pipelineExecution;
    await page.locator(`tr[data-execution="${released.id}"]`).waitFor();
    expect(await rows.count()).toBe(3);
    expect(await notReloaded()).toBe(true);
    await stack.gql(
      `mutation ($id: ID!) { stopPipelineExecution(input: { executionId: $id, abandon: true }) { clientMutationId } }`,
      { id: released.id },
    );
    await page.locator(`tr[data-execution="${released.id}"]`, { hasText: "Stopped" }).waitFor();
  });

  it("keeps the history's status filter in the address: links and reloads show it, Back and Forward go through it", async () => {
    const history = `${stack.web}/pipelines/${PIPELINE}/executions`;
    const rows = page.locator("tr[data-execution]");
    const filter = page.getByLabel("Status");
    // The executions so far: the abandoned first run, the released one, the one abandoned above.
    const shows = (status: string, count: number) =>
      eventually(
        async () => {
          const shown = await rows.locator("td:first-child .status").allTextContents();
          return shown.length === count && shown.every((text) => text.includes(status));
        },
        10_000,
        `${count} ${status || "executions"}`,
      );
    await page.goto(history);
    await shows("", 3);
    await filter.selectOption("Succeeded");
    await page.waitForURL(`${history}?status=Succeeded`);
    await shows("Succeeded", 1);
    await filter.selectOption("Stopped");
    await page.waitForURL(`${history}?status=Stopped`);
    await shows("Stopped", 2);

    await page.goBack();
    await page.waitForURL(`${history}?status=Succeeded`);
    await shows("Succeeded", 1);
    expect(await filter.inputValue()).toBe("Succeeded");
    await page.goForward();
    await page.waitForURL(`${history}?status=Stopped`);
    await shows("Stopped", 2);
    expect(await filter.inputValue()).toBe("Stopped");

    // Loaded directly: the filtered list, with the filter chosen.
    await page.goto(`${history}?status=Succeeded`);
    await shows("Succeeded", 1);
    expect(await filter.inputValue()).toBe("Succeeded");
    // An unknown status is no filter; All takes the filter out of the address.
    await page.goto(`${history}?status=Nonsense`);
    await shows("", 3);
    expect(await filter.inputValue()).toBe("");
    await page.goto(`${history}?status=Stopped`);
    await shows("Stopped", 2);
    await filter.selectOption("");
    await page.waitForURL(history);
    await shows("", 3);
  });

  it("lists every change in the audit log: refusals with their code, filters in the address, older pages", async () => {
    await page.getByRole("link", { name: "Audit", exact: true }).click();
    await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
    const rows = page.locator("tr[data-audit-event]");
    await rows.first().waitFor();
    const shownIds = () => rows.evaluateAll((r) => r.map((e) => e.getAttribute("data-audit-event")));

    // Changes the server refuses, made through the API meanwhile: Refresh shows them, the code as text.
    const refusals = [
      `mutation { startPipelineExecution(input: { pipelineName: "no-such-pipeline" }) { clientMutationId } }`,
      `mutation { disableStageTransition(input: { pipelineName: "${PIPELINE}", stageName: "NoSuchStage", reason: "x" }) { clientMutationId } }`,
    ];
    const codes: string[] = [];
    for (const mutation of refusals) {
      const refused = await stack.server.gql(mutation);
      codes.push(refused.errors?.[0]?.extensions?.code as string);
    }
    expect(codes[0]).toBe("NOT_FOUND");
    await page.getByRole("button", { name: "Refresh" }).click();
    const missing = rows.filter({ hasText: "no-such-pipeline" });
    await missing.waitFor();
    expect(await missing.getAttribute("data-operation")).toBe("startPipelineExecution");
    await missing.locator(".status", { hasText: "NOT_FOUND" }).waitFor();
    expect(await missing.locator(".audit-error").textContent()).toContain("no-such-pipeline");
    await checkPage("audit");

    // More than a page of changes: the pages the API gives, Older by the cursor (in the address), Newest back.
    const query = `query ($after: String) { auditEvents(first: 20, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } } }`;
    const first = (await stack.gql(query)).auditEvents;
    const second = (await stack.gql(query, { after: first.pageInfo.endCursor })).auditEvents;
    expect(first.pageInfo.hasNextPage).toBe(true); // the scenario made more than 20 changes
    const ids = (connection: { nodes: Array<{ id: string }> }) => connection.nodes.map((n) => n.id);
    const same = (a: unknown[], b: unknown[]) => JSON.stringify(a) === JSON.stringify(b);
    expect(await shownIds()).toEqual(ids(first));
    await page.getByRole("button", { name: "Older" }).click();
    await page.waitForURL(/\/audit\?after=/);
    await eventually(async () => same(await shownIds(), ids(second)), 10_000, "the older page");
    await page.getByRole("button", { name: "Newest" }).click();
    await page.waitForURL(`${stack.web}/audit`);
    await eventually(async () => same(await shownIds(), ids(first)), 10_000, "the newest page");

    // By operation: the approval, with the comment the reviewer gave.
    // The dashboard sends the input-style mutation (docs/graphql.md).
    await page.getByLabel("Operation", { exact: true }).fill("putApprovalResultV2");
    await page.getByRole("button", { name: "Filter", exact: true }).click();
    await page.waitForURL(`${stack.web}/audit?operation=putApprovalResultV2`);
    await page
      .locator('tr[data-audit-event]:not([data-operation="putApprovalResultV2"])')
      .first()
      .waitFor({ state: "detached" });
    expect(await rows.count()).toBe(1);
    await rows.first().locator("summary").click();
    const approval = rows.first().locator("pre");
    await approval.waitFor();
    expect(JSON.parse((await approval.textContent())!)).toMatchObject({
      input: { approved: true, summary: "ship it" },
    });

    // By pipeline: fewer, in the address; the transition disabled with the reason the test gave, and the refusal.
    await page.getByLabel("Operation", { exact: true }).fill("");
    await page.getByLabel("Pipeline", { exact: true }).fill(PIPELINE);
    await page.getByRole("button", { name: "Filter", exact: true }).click();
    await page.waitForURL(`${stack.web}/audit?pipelineName=${PIPELINE}`);
    // The rows are exactly the API's filtered page once the page has loaded it.
    const filtered = (
      await stack.gql(
        `query ($p: String) { auditEvents(first: 20, pipelineName: $p) { nodes { id } pageInfo { endCursor hasNextPage } } }`,
        { p: PIPELINE },
      )
    ).auditEvents;
    await eventually(async () => same(await shownIds(), ids(filtered)), 10_000, "the filtered page");
    const shown = await rows.count();
    expect(shown).toBeGreaterThan(1);
    expect(shown).toBeLessThan(first.nodes.length);
    await rows.filter({ hasText: "NoSuchStage" }).locator(".status", { hasText: codes[1] }).waitFor();
    const freeze = rows.filter({ hasText: "freeze for the demo" });
    expect(await freeze.getAttribute("data-operation")).toBe("disableStageTransition");
    await freeze.locator("summary").click();
    expect(JSON.parse((await freeze.locator("pre").textContent())!)).toMatchObject({
      input: { pipelineName: PIPELINE, stageName: "Deploy", reason: "freeze for the demo" },
    });
    await checkPage("audit-filtered");

    // The pipeline's own page links back here, filtered.
    await rows.first().getByRole("link", { name: PIPELINE, exact: true }).click();
    await page.getByRole("link", { name: "Recent changes" }).click();
    await page.waitForURL(`${stack.web}/audit?pipelineName=${PIPELINE}`);
    expect(await page.getByLabel("Pipeline", { exact: true }).inputValue()).toBe(PIPELINE);
    await rows.first().waitFor();
  });

  it("shows the pipeline's notification rules and delivery log, live; sends a test and redelivers it", async () => {
    // A real receiver: a NATS subscriber on the target's subject.
    const nc = await connectNats();
    try {
      const target = (
        await stack.gql(
          `mutation ($t: NotificationTargetInput!) { createNotificationTargetV2(input: { target: $t }) { notificationTarget { id natsSubject } } }`,
          { t: { kind: "NATS", name: "ops-bus", subject: "web.release" } },
        )
      ).createNotificationTargetV2.notificationTarget;
      await stack.gql(
        `mutation ($r: NotificationRuleInput!) { createNotificationRuleV2(input: { rule: $r }) { clientMutationId } }`,
        {
          r: {
            name: "release-news",
            pipelineName: PIPELINE,
            eventTypes: ["EXECUTION_FAILED", "EXECUTION_SUCCEEDED"],
            targetIds: [target.id],
          },
        },
      );
      const received: string[] = [];
      const sub = nc.subscribe(target.natsSubject as string);
      void (async () => {
        for await (const m of sub) received.push(m.headers?.get("Nats-Msg-Id") ?? "");
      })();
      await nc.flush();

      await page.goto(`${stack.web}/pipelines/${PIPELINE}`);
      await page.getByRole("link", { name: "Notifications", exact: true }).click();
      await page.getByRole("heading", { name: `Notifications of ${PIPELINE}`, level: 1 }).waitFor();
      const rule = page.locator('tr[data-rule="release-news"]');
      await rule.locator('li[data-target="ops-bus"]').waitFor();
      expect(await rule.textContent()).toContain(target.natsSubject);

      // Send test: the receiver gets it, and the delivery log shows it delivered without a reload.
      await rule.getByRole("button", { name: "Send test of release-news" }).click();
      await eventually(async () => received.length === 1, 20_000, "the test message at the receiver");
      const row = page.locator(`tr[data-delivery="${received[0]}"]`);
      await row.locator(".status", { hasText: "Delivered" }).waitFor();
      expect(await row.textContent()).toContain("TEST");
      await checkPage("notifications");

      // Redeliver: the same message id again.
      await row.getByRole("button", { name: /^Redeliver/ }).click();
      await eventually(async () => received.length === 2, 20_000, "the redelivered message");
      expect(received[1]).toBe(received[0]);
      await page.getByRole("status").filter({ hasText: "Redelivering to ops-bus." }).waitFor();

      // A test sent through the API meanwhile shows up without a reload (the delivery events).
      await markDocument();
      const rules = (
        await stack.gql(`query ($p: String) { notificationRulesV2(pipelineName: $p) { nodes { id } } }`, {
          p: PIPELINE,
        })
      ).notificationRulesV2.nodes;
      const tested = (
        await stack.gql(
          `mutation ($id: ID!) { testNotificationRuleV2(input: { id: $id }) { notificationDeliveries { id } } }`,
          { id: rules[0].id },
        )
      ).testNotificationRuleV2.notificationDeliveries;
      await page
        .locator(`tr[data-delivery="${tested[0].id}"]`)
        .locator(".status", { hasText: "Delivered" })
        .waitFor();
      expect(await notReloaded()).toBe(true);

      // Mute: the rule says so, and the server has it.
      await rule.getByRole("button", { name: "Mute release-news" }).click();
      await rule.getByRole("button", { name: "Unmute release-news" }).waitFor();
      const muted = await stack.gql(
        `query ($p: String) { notificationRulesV2(pipelineName: $p) { nodes { name enabled } } }`,
        { p: PIPELINE },
      );
      expect(muted.notificationRulesV2.nodes).toEqual([{ name: "release-news", enabled: false }]);
      sub.unsubscribe();
    } finally {
      await nc.close();
    }
  });

  it("lists on the agents page the actions no agent can take, with the pool and type in words", async () => {
    await stack.gql(
      `mutation ($input: PipelineInput!) { createPipelineV2(input: { pipeline: $input }) { pipeline { name } } }`,
      {
        input: {
          name: "far-away",
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
              name: "Build",
              actions: [
                shell("Build", "OnMars", {
                  region: "mars",
                  inputArtifacts: [{ name: "Src" }],
                  configuration: { Commands: "echo never" },
                }),
              ],
            },
          ],
        },
      },
    );
    await page.goto(`${stack.web}/agents`);
    const waiting = page.locator('li[data-waiting="NO_AGENT"]', { hasText: "OnMars" });
    await waiting.waitFor({ timeout: 30_000 });
    expect(await waiting.textContent()).toContain('No online agent of pool "mars" runs Build/Sluice/Shell@1');
    await checkPage("agents-waiting");
    const { pipeline } = await stack.gql(
      `{ pipeline(name: "far-away") { executions(first: 1) { nodes { id } } } }`,
    );
    await stack.gql(
      `mutation ($id: ID!) { stopPipelineExecution(input: { executionId: $id, abandon: true, reason: "test" }) { clientMutationId } }`,
      { id: pipeline.executions.nodes[0].id },
    );
    await waiting.waitFor({ state: "detached" });
    await page.getByText("No action waits for an agent.").waitFor();
  });

  it("has a favicon", async () => {
    const href = await page.locator('link[rel="icon"]').first().getAttribute("href");
    expect(href).toBeTruthy();
    const response = await fetch(new URL(href!, stack.web));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("image/svg+xml");
    expect(await response.text()).toContain("<svg");
  });

  it("loads every page, and GraphiQL, with the network blocked except this host: nothing is fetched from elsewhere", async () => {
    const { pipeline } = await stack.gql(
      `query ($n: String!) { pipeline(name: $n) { executions(first: 20) { nodes { id stages { actions { id name } } } } } }`,
      { n: PIPELINE },
    );
    // An execution whose Make ran (it has an action execution id).
    type Run = { id: string; stages: Array<{ actions: Array<{ id: string | null; name: string }> }> };
    const ran = (pipeline.executions.nodes as Run[])
      .map((e) => ({
        execution: e,
        make: e.stages.flatMap((s) => s.actions).find((a) => a.name === "Make" && a.id),
      }))
      .find((r) => r.make)!;
    const { execution, make } = ran;
    const pages = [
      "/signin",
      "/",
      "/agents",
      "/audit",
      "/identity",
      "/me",
      "/new",
      `/pipelines/${PIPELINE}`,
      `/pipelines/${PIPELINE}?view=compact`,
      `/pipelines/${PIPELINE}/edit`,
      `/pipelines/${PIPELINE}/executions`,
      `/pipelines/${PIPELINE}/notifications`,
      `/executions/${execution.id}`,
      `/executions/${execution.id}/actions/${make!.id}/logs`,
    ];
    // Every page the app has is in the list (a new page must be added here).
    const appDir = path.join(__dirname, "..", "src", "app");
    const routes = (fs.readdirSync(appDir, { recursive: true }) as string[])
      .filter((f) => f.endsWith("page.tsx"))
      .map((f) => `/${path.dirname(f)}`.replace(/\/\.$/, "/").replace(/\[[^\]]+\]/g, "*"));
    const covered = (route: string) =>
      pages.some((p) => new RegExp(`^${route.replace(/\*/g, "[^/?]+")}(\\?|$)`).test(p));
    expect(routes.filter((r) => !covered(r))).toEqual([]);

    const offline = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const elsewhere: string[] = [];
    await offline.route("**/*", (route) => {
      const { hostname } = new URL(route.request().url());
      if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
      elsewhere.push(route.request().url());
      return route.abort("blockedbyclient");
    });
    try {
      const tab = await offline.newPage();
      tab.setDefaultTimeout(20_000);
      const failed: string[] = [];
      // A navigation cancels the previous page's prefetches (ERR_ABORTED): not a failure.
      tab.on("requestfailed", (r) => {
        if (r.failure()?.errorText !== "net::ERR_ABORTED")
          failed.push(`${r.url()}: ${r.failure()?.errorText}`);
      });
      // The token for the session, as a link with #token= gives it.
      await tab.goto(`${stack.web}/agents#token=${ADMIN_TOKEN}`);
      await tab.getByRole("heading", { name: "Agents", level: 1 }).waitFor();
      for (const p of pages) {
        await tab.goto(`${stack.web}${p}`, { waitUntil: "networkidle" });
        await tab.locator("h1").first().waitFor();
        const alerts = (await tab.locator('[role="alert"]').allTextContents()).filter((t) => t.trim());
        expect([p, alerts]).toEqual([p, []]);
      }
      // GraphiQL, served by the server itself.
      await tab.goto(stack.server.url, { waitUntil: "networkidle" });
      await tab.locator(".graphiql-container").waitFor();
      expect(elsewhere).toEqual([]);
      expect(failed).toEqual([]);
    } finally {
      await offline.close();
    }
  });

  it("measures the pipeline page's first load (printed, not asserted)", async () => {
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const first = await fresh.newPage();
      const figures = await measureFirstLoad(
        first,
        `${stack.web}/pipelines/${PIPELINE}#token=${ADMIN_TOKEN}`,
        'section[data-stage="Deploy"] .stage-status',
      );
      // The sign-in link put the token in the session and took it out of the address.
      expect(first.url()).toBe(`${stack.web}/pipelines/${PIPELINE}`);
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      fs.writeFileSync(path.join(SCREENSHOTS, "perf.json"), JSON.stringify(figures, null, 2));
      console.log(
        `pipeline page first load: ${figures.scripts} scripts, ${(figures.jsGzipBytes / 1024).toFixed(1)} KB of JS gzipped; ` +
          `stages on screen after ${figures.readyMs} ms, load event at ${figures.loadEventMs} ms`,
      );
      expect(figures.scripts).toBeGreaterThan(0);
    } finally {
      await fresh.close();
    }
  });
});
