/**
 * Live views in a real browser against a real server and agent: the pipeline page and the
 * execution page follow a release from the subscription's events alone. While the execution
 * moves on (an approval, a stage entered, a build run and succeeded), the pages send no query
 * over HTTP (the requests to /graphql are counted); the events come over the socket.
 */
import type { Browser, Page } from "playwright-core";
import { eventually } from "../../server/test/support/wait";
import { launchBrowser, signInWithLink } from "./support/browser";
import { ADMIN_TOKEN, startStack, type Stack } from "./support/stack";

jest.setTimeout(90_000);

let stack: Stack;
let browser: Browser;
const PIPELINE = "live-views";

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  await stack.gql(
    `mutation ($input: PipelineInput!) { createPipelineV2(input: { pipeline: $input }) { pipeline { name } } }`,
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
            name: "Approve",
            actions: [
              {
                name: "Gate",
                actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
              },
            ],
          },
          {
            name: "Build",
            actions: [
              {
                name: "Make",
                actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
                inputArtifacts: [{ name: "Src" }],
                configuration: { Commands: "sleep 1\necho built" },
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

/** A signed-in tab; `queries` gets the operation name of every request to /graphql over HTTP, `events` the events received over the socket. */
async function openTab(): Promise<{ page: Page; queries: string[]; events: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const queries: string[] = [];
  const events: string[] = [];
  page.on("request", (request) => {
    if (!new URL(request.url()).pathname.endsWith("/graphql")) return;
    const body = request.postDataJSON() as { operationName?: string } | null;
    queries.push(body?.operationName ?? request.url());
  });
  page.on("websocket", (socket) => {
    socket.on("framereceived", ({ payload }) => {
      const text = String(payload);
      const match = /"type":"([A-Z_]+)"/.exec(text);
      if (text.includes('"type":"next"') && match) events.push(match[1]!);
    });
  });
  await signInWithLink(page, stack.web, ADMIN_TOKEN);
  return { page, queries, events };
}

async function latestExecution(): Promise<{ id: string; gate: string | null }> {
  const { pipeline } = await stack.gql(
    `query ($n: String!) { pipeline(name: $n) { executions(first: 1) { nodes { id stages { name actions { id approvalPending } } } } } }`,
    { n: PIPELINE },
  );
  const execution = pipeline.executions.nodes[0];
  const gate = execution?.stages.find((s: { name: string }) => s.name === "Approve")?.actions[0];
  return { id: execution?.id, gate: gate?.approvalPending ? gate.id : null };
}

it("updates the pipeline and execution pages from the events, sending no query", async () => {
  // Creating the pipeline started its first execution: it waits at the Gate.
  const { id, gate } = await eventually(
    async () => {
      const latest = await latestExecution();
      return latest.gate ? latest : undefined;
    },
    30_000,
    "the execution to wait at the Gate",
  );

  const pipelineTab = await openTab();
  await pipelineTab.page.goto(`${stack.web}/pipelines/${PIPELINE}`);
  const stage = (name: string) => pipelineTab.page.locator(`section[data-stage="${name}"]`);
  await stage("Approve").getByText("Waiting for approval").waitFor();

  const executionTab = await openTab();
  await executionTab.page.goto(`${stack.web}/executions/${id}`);
  await executionTab.page.getByRole("heading", { name: /Execution/, level: 1 }).waitFor();
  await executionTab.page.locator(".gantt-stage", { hasText: "Approve" }).getByText("In progress").waitFor();

  // From here on, the pages only listen.
  pipelineTab.queries.length = 0;
  executionTab.queries.length = 0;
  pipelineTab.events.length = 0;
  await stack.gql(
    `mutation ($id: ID!) { putApprovalResultV2(input: { actionExecutionId: $id, approved: true, summary: "ok" }) { clientMutationId } }`,
    { id: gate },
  );
  // The decision, from the event (the build runs for a second after it: no query has been sent).
  await executionTab.page.getByText("approved by").waitFor();
  expect(executionTab.queries).toEqual([]);
  await stage("Build").locator(".stage-status", { hasText: "In progress" }).waitFor();
  await stage("Build").locator(".stage-status", { hasText: "Succeeded" }).waitFor();
  const make = executionTab.page.locator(".gantt-row", { hasText: "Make" }).last();
  await make.getByText("Succeeded").waitFor();
  await executionTab.page.locator(".gantt-stage", { hasText: "Build" }).getByText("Succeeded").waitFor();

  await eventually(async () => pipelineTab.events.includes("EXECUTION_SUCCEEDED"), 20_000, "the end");
  // One more turn of the page's event loop: a query an event asked for would have gone out by then.
  await pipelineTab.page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  expect(pipelineTab.events).toEqual(
    expect.arrayContaining(["APPROVAL_APPROVED", "STAGE_STARTED", "ACTION_STARTED", "ACTION_SUCCEEDED"]),
  );
  expect(pipelineTab.queries).toEqual([]);
  // The execution page took the approval and the build from the events alone; it asks once at
  // the end, for what is final then (docs/ARCHITECTURE.md, live views).
  await executionTab.page.locator(".page-head").getByText("Succeeded").waitFor();
  expect(executionTab.queries).toEqual(["ExecutionView"]);
});
