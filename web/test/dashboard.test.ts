/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * server and a real agent: sign in, watch a release move through its stages without reloading,
 * hold it at a disabled transition, approve it, read its execution and logs, see the agents, and
 * lose the connection and get it back. Each page is screenshotted (test/screenshots/) and checked
 * with axe: no serious or critical violation.
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
import { eventually } from "../../server/test/support/wait";
import { ADMIN_TOKEN, startStack, type Stack } from "./support/stack";

jest.setTimeout(60_000);

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const PIPELINE = "web-release";

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
  await stack.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
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
  });
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
    `mutation ($id: ID!) { stopExecution(executionId: $id, abandon: true, reason: "test") { id } }`,
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
    await page.getByLabel("API token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "refused" }).waitFor();
    await page.getByLabel("API token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
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
    await page.getByRole("link", { name: PIPELINE }).waitFor();
    await page.getByRole("link", { name: "another-pipeline" }).waitFor();
    await page.getByLabel("Search by name").fill("release");
    await page.getByRole("link", { name: "another-pipeline" }).waitFor({ state: "detached" });
    expect(await page.locator("tbody tr").count()).toBe(1);
    expect(await notReloaded()).toBe(true);
    await checkPage("pipelines");
  });

  it("releases a change and shows the stages turn green without reloading", async () => {
    await page.getByRole("link", { name: PIPELINE }).click();
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
    await review.getByLabel("Comment").fill("ship it");
    await review.getByRole("button", { name: "Approve", exact: true }).click();
    await stageStatus("Approve", "Succeeded");
    await stage("Deploy")
      .locator(".waiting", { hasText: "disabled by admin: freeze for the demo" })
      .waitFor();
    expect(await notReloaded()).toBe(true);
    await checkPage("pipeline-waiting");
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
    await page.locator("section", { hasText: "Approvals" }).getByText("approved by admin").waitFor();
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
      `mutation { toggleTransition(pipelineName: "${PIPELINE}", stageName: "Build", enabled: false, reason: "changed while offline") { enabled } }`,
    );
    stack.proxy.restore();
    await page.locator(".transition-off", { hasText: "changed while offline" }).waitFor();
    await page.getByRole("status").filter({ hasText: "Reconnecting…" }).waitFor({ state: "detached" });
    expect(await notReloaded()).toBe(true);
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
