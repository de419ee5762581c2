/**
 * The execution commands that need no subscription, against the canned fake GraphQL server: the
 * operations and variables they send, what they print, and their exit codes.
 * (Waiting is tested in execution-wait.test.ts.)
 */
import {
  DISABLE_TRANSITION_MUTATION,
  ENABLE_TRANSITION_MUTATION,
} from "../src/commands/disable-stage-transition";
import { GET_PIPELINE_EXECUTION_QUERY } from "../src/commands/get-pipeline-execution";
import { GET_PIPELINE_STATE_QUERY } from "../src/commands/get-pipeline-state";
import { LIST_PIPELINE_EXECUTIONS_QUERY } from "../src/commands/list-pipeline-executions";
import { APPROVAL_LOOKUP_QUERY, PUT_APPROVAL_RESULT_MUTATION } from "../src/commands/put-approval-result";
import { RETRY_STAGE_MUTATION } from "../src/commands/retry-stage-execution";
import { ROLLBACK_STAGE_MUTATION } from "../src/commands/rollback-stage";
import { START_EXECUTION_MUTATION } from "../src/commands/start-pipeline-execution";
import { STOP_EXECUTION_MUTATION } from "../src/commands/stop-pipeline-execution";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);
const printed = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const bodies = () => server.requests.map((r) => r.body);

function graphQLError(message: string, code: string, validationErrors?: unknown[]) {
  return {
    body: {
      errors: [{ message, extensions: { code, ...(validationErrors ? { validationErrors } : {}) } }],
      data: null,
    },
  };
}

/** Runs `args` and checks it stops with exit 2 and `message`, sending nothing. */
async function expectUsageError(args: string[], message: string) {
  const result = await sluice(...args);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr).toContain(message);
  expect(server.requests).toHaveLength(0);
}

/** An execution as the API returns it, without its `id` (printed as `pipelineExecutionId`). */
function withoutId<T extends { id: unknown }>({ id: _id, ...rest }: T): Omit<T, "id"> {
  return rest;
}

describe("start-pipeline-execution", () => {
  it('prints { "pipelineExecutionId" } like the AWS CLI, sending nulls for what is not given', async () => {
    server.respondData({ startPipelineExecution: { pipelineExecution: { id: "e1" } } });
    expect(await sluice("start-pipeline-execution", "--name", "web")).toEqual({
      code: 0,
      stderr: "",
      stdout: printed({ pipelineExecutionId: "e1" }),
    });
    expect(bodies()).toEqual([
      {
        query: START_EXECUTION_MUTATION,
        variables: { pipelineName: "web", sourceRevisions: null, variables: null, clientRequestToken: null },
      },
    ]);
  });

  it("sends variables, source revisions and the client request token in the order given", async () => {
    server.respondData({ startPipelineExecution: { pipelineExecution: { id: "e2" } } });
    const result = await sluice(
      "start-pipeline-execution",
      "--name",
      "web",
      "--variable",
      "Env=prod",
      "--source-revision",
      "Checkout=4f1c2e0",
      "--variable",
      "Flags=a=b,c",
      "--variable",
      "Empty=",
      "--source-revision",
      "Tools=v1.2",
      "--client-request-token",
      "deploy-42",
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ pipelineExecutionId: "e2" });
    expect(server.requests[0]!.body.variables).toEqual({
      pipelineName: "web",
      variables: [
        { name: "Env", value: "prod" },
        { name: "Flags", value: "a=b,c" },
        { name: "Empty", value: "" },
      ],
      sourceRevisions: [
        { actionName: "Checkout", revisionId: "4f1c2e0" },
        { actionName: "Tools", revisionId: "v1.2" },
      ],
      clientRequestToken: "deploy-42",
    });
  });

  it("prints an API error with its code and validation paths, exit 1", async () => {
    server.respond(
      graphQLError("Pipeline variable Nope is not declared.", "BAD_USER_INPUT", [
        { path: "variables[0].name", message: "is not declared" },
      ]),
    );
    expect(await sluice("start-pipeline-execution", "--name", "web", "--variable", "Nope=x")).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "error: Pipeline variable Nope is not declared. (BAD_USER_INPUT)\n  variables[0].name: is not declared\n",
    });
  });

  it.each([
    [
      ["--variable", "Env"],
      "error: option '--variable <Name=Value>' argument 'Env' is invalid. expected Name=Value.",
    ],
    [["--variable", "=x"], "argument '=x' is invalid. expected Name=Value."],
    [
      ["--source-revision", "4f1c2e0"],
      "error: option '--source-revision <Action=RevisionId>' argument '4f1c2e0' is invalid. expected Action=RevisionId.",
    ],
    [["--variable", "A=1", "--variable", "A=2"], "error: --variable A is given more than once"],
    [
      ["--source-revision", "S=1", "--source-revision", "S=2"],
      "error: --source-revision S is given more than once",
    ],
    [["--timeout", "60"], "error: --timeout needs --wait"],
    [["--wait", "--timeout", "soon"], "argument 'soon' is invalid. expected a positive integer."],
  ])("exits 2 for %j without sending anything", async (args, message) => {
    await expectUsageError(["start-pipeline-execution", "--name", "web", ...args], message);
  });

  it("requires --name", async () => {
    await expectUsageError(
      ["start-pipeline-execution"],
      "error: required option '--name <name>' not specified",
    );
  });
});

describe("get-pipeline-state", () => {
  const state = {
    stages: [
      {
        name: "Source",
        inboundTransition: null,
        latestExecution: { executionId: "e2", status: "Succeeded" },
        waitingExecutions: [],
        actions: [
          { name: "Checkout", latestExecution: { actionExecutionId: "a1", executionId: "e2", attempt: 1 } },
        ],
      },
      {
        name: "Build",
        inboundTransition: {
          enabled: false,
          disabledReason: "release freeze",
          disabledBy: "admin",
          disabledAt: "2025-01-01T00:00:00.000Z",
        },
        latestExecution: { executionId: "e1", status: "Succeeded" },
        waitingExecutions: [
          { executionId: "e2", waitingReason: { code: "TRANSITION_DISABLED", message: "release freeze" } },
        ],
        actions: [{ name: "Compile", latestExecution: null }],
      },
    ],
  };

  it("prints the pipeline's name, version and stages' state", async () => {
    server.respondData({ pipeline: { name: "web", version: 3, createdAt: "t0", updatedAt: "t1", state } });
    expect(await sluice("get-pipeline-state", "--name", "web")).toEqual({
      code: 0,
      stderr: "",
      // AWS's shape: stageStates, inboundTransitionState, actionStates, latestExecution.pipelineExecutionId
      stdout: printed({
        pipelineName: "web",
        pipelineVersion: 3,
        stageStates: [
          {
            stageName: "Source",
            inboundTransitionState: { enabled: true },
            latestExecution: { pipelineExecutionId: "e2", status: "Succeeded" },
            actionStates: [
              {
                actionName: "Checkout",
                latestExecution: {
                  actionExecutionId: "a1",
                  attempt: 1,
                  pipelineExecutionId: "e2",
                  externalExecutionUrl: null,
                },
              },
            ],
            waitingExecutions: [],
          },
          {
            stageName: "Build",
            inboundTransitionState: {
              enabled: false,
              disabledReason: "release freeze",
              lastChangedBy: "admin",
              lastChangedAt: "2025-01-01T00:00:00.000Z",
            },
            latestExecution: { pipelineExecutionId: "e1", status: "Succeeded" },
            actionStates: [{ actionName: "Compile", latestExecution: null }],
            waitingExecutions: [
              {
                pipelineExecutionId: "e2",
                waitingReason: { code: "TRANSITION_DISABLED", message: "release freeze" },
              },
            ],
          },
        ],
        created: "t0",
        updated: "t1",
      }),
    });
    expect(bodies()).toEqual([{ query: GET_PIPELINE_STATE_QUERY, variables: { name: "web" } }]);
  });

  it("asks for the transitions, waiting executions and actions' latest executions", () => {
    for (const field of [
      "inboundTransition{ enabled disabledReason disabledBy disabledAt }",
      "waitingExecutions{ executionId waitingReason{ code message since",
      "latestExecution{ executionId status }",
      "actions{ name latestExecution{ actionExecutionId executionId attempt status summary approvalPending",
    ]) {
      expect(GET_PIPELINE_STATE_QUERY).toContain(field);
    }
  });

  it("reports a pipeline that does not exist", async () => {
    server.respondData({ pipeline: null });
    expect(await sluice("get-pipeline-state", "--name", "nope")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: pipeline nope not found\n",
    });
  });
});

describe("get-pipeline-execution", () => {
  it('prints { "pipelineExecution" } with what the server returned', async () => {
    const execution = {
      id: "e1",
      pipelineName: "web",
      status: "Failed",
      statusSummary: "Build/Compile failed",
      trigger: { triggerType: "StartPipelineExecution", triggerDetail: "admin" },
      stages: [
        { name: "Build", status: "Failed", actions: [{ name: "Compile", attempts: [{ attempt: 1 }] }] },
      ],
    };
    server.respondData({ pipelineExecution: execution });
    expect(await sluice("get-pipeline-execution", "--pipeline-execution-id", "e1")).toEqual({
      code: 0,
      stderr: "",
      stdout: printed({ pipelineExecution: { pipelineExecutionId: "e1", ...withoutId(execution) } }),
    });
    expect(bodies()).toEqual([{ query: GET_PIPELINE_EXECUTION_QUERY, variables: { id: "e1" } }]);
    for (const field of [
      "status statusSummary",
      "trigger{ triggerType triggerDetail }",
      "sourceRevisions{ actionName revisionId",
      "variables{ name resolvedValue }",
      "approvalPending",
      "attempts{ id attempt status summary",
    ]) {
      expect(GET_PIPELINE_EXECUTION_QUERY).toContain(field);
    }
  });

  it("reports an execution that does not exist", async () => {
    server.respondData({ pipelineExecution: null });
    expect(await sluice("get-pipeline-execution", "--pipeline-execution-id", "e9")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: execution e9 not found\n",
    });
  });
});

describe("list-pipeline-executions", () => {
  const execution = (id: string) => ({ id, status: "Succeeded" });
  const summary = (id: string) => ({ pipelineExecutionId: id, status: "Succeeded" });
  const page = (ids: string[], endCursor: string | null, hasNextPage: boolean) => ({
    pipeline: { executions: { nodes: ids.map(execution), pageInfo: { hasNextPage, endCursor } } },
  });
  const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => `e${from + i}`);

  it("reads every page by default, following the cursors, and prints AWS's pipelineExecutionSummaries", async () => {
    server.respondData(page(["e1", "e2"], "c1", true), page(["e3"], "c2", false));
    const result = await sluice("list-pipeline-executions", "--name", "web");
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: printed({ pipelineExecutionSummaries: ["e1", "e2", "e3"].map(summary) }),
    });
    expect(bodies()).toEqual([
      {
        query: LIST_PIPELINE_EXECUTIONS_QUERY,
        variables: { name: "web", first: 100, after: null, status: null },
      },
      {
        query: LIST_PIPELINE_EXECUTIONS_QUERY,
        variables: { name: "web", first: 100, after: "c1", status: null },
      },
    ]);
  });

  it("asks pages of at most 100 up to --max-items, with the statuses given", async () => {
    server.respondData(page(ids(1, 100), "c1", true), page(ids(101, 50), "c2", true));
    const result = await sluice(
      "list-pipeline-executions",
      "--name",
      "web",
      "--max-items",
      "150",
      "--status",
      "Failed",
      "--status",
      "Stopped",
    );
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(
      output.pipelineExecutionSummaries.map((e: { pipelineExecutionId: string }) => e.pipelineExecutionId),
    ).toEqual(ids(1, 150));
    expect(typeof output.NextToken).toBe("string"); // the server said there is more
    expect(bodies().map((b) => b.variables)).toEqual([
      { name: "web", first: 100, after: null, status: ["Failed", "Stopped"] },
      { name: "web", first: 50, after: "c1", status: ["Failed", "Stopped"] },
    ]);
  });

  it("asks a small page for a small --max-items, and --starting-token goes on from its NextToken", async () => {
    server.respondData(page(["e1"], "c1", true), page(["e2"], "c2", false));
    const first = await sluice("list-pipeline-executions", "--name", "web", "--max-items", "1");
    const output = JSON.parse(first.stdout);
    expect(output.pipelineExecutionSummaries).toEqual([summary("e1")]);
    expect(server.requests[0]!.body.variables).toMatchObject({ first: 1, after: null });
    const next = await sluice(
      "list-pipeline-executions",
      "--name",
      "web",
      "--starting-token",
      output.NextToken,
    );
    expect(JSON.parse(next.stdout)).toEqual({ pipelineExecutionSummaries: [summary("e2")] });
    expect(server.requests[1]!.body.variables).toMatchObject({ first: 100, after: "c1" });
  });

  it("reports a pipeline that does not exist", async () => {
    server.respondData({ pipeline: null });
    expect(await sluice("list-pipeline-executions", "--name", "nope")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: pipeline nope not found\n",
    });
  });

  it("fails instead of looping when the cursor does not advance", async () => {
    server.respondData(page(["e1"], "c1", true), page(["e2"], "c1", true));
    const result = await sluice("list-pipeline-executions", "--name", "web");
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: 'error: cannot follow pages: hasNextPage is true but endCursor is "c1"\n',
    });
  });

  it.each([
    [["--status", "Done"], "argument 'Done' is invalid. expected one of InProgress, Stopping, Stopped"],
    [["--max-items", "0"], "argument '0' is invalid. expected a positive integer."],
  ])("exits 2 for %j", async (args, message) => {
    await expectUsageError(["list-pipeline-executions", "--name", "web", ...args], message);
  });
});

describe("stop-pipeline-execution", () => {
  const stopped = { id: "e1", pipelineName: "web", status: "Stopping", statusSummary: null };

  it("lets running actions finish by default, with an empty reason, and prints the execution", async () => {
    server.respondData({ stopPipelineExecution: { pipelineExecution: stopped } });
    expect(await sluice("stop-pipeline-execution", "--pipeline-execution-id", "e1")).toEqual({
      code: 0,
      stderr: "",
      stdout: printed({ pipelineExecutionId: "e1", ...withoutId(stopped) }),
    });
    expect(bodies()).toEqual([
      { query: STOP_EXECUTION_MUTATION, variables: { executionId: "e1", abandon: false, reason: "" } },
    ]);
  });

  it("sends --abandon and --reason", async () => {
    server.respondData({ stopPipelineExecution: { pipelineExecution: { ...stopped, status: "Stopped" } } });
    const result = await sluice(
      "stop-pipeline-execution",
      "--pipeline-execution-id",
      "e1",
      "--abandon",
      "--reason",
      "bad build",
    );
    expect(result.code).toBe(0);
    expect(server.requests[0]!.body.variables).toEqual({
      executionId: "e1",
      abandon: true,
      reason: "bad build",
    });
  });

  it("prints a CONFLICT", async () => {
    server.respond(
      graphQLError("Execution e1 is Succeeded; only an InProgress execution can be stopped.", "CONFLICT"),
    );
    expect(await sluice("stop-pipeline-execution", "--pipeline-execution-id", "e1")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: Execution e1 is Succeeded; only an InProgress execution can be stopped. (CONFLICT)\n",
    });
  });
});

describe("retry-stage-execution", () => {
  const retried = { id: "e1", pipelineName: "web", status: "InProgress", statusSummary: null, stages: [] };

  it("re-runs the failed actions by default and prints the execution", async () => {
    server.respondData({ retryStageExecution: { pipelineExecution: retried } });
    expect(
      await sluice("retry-stage-execution", "--pipeline-execution-id", "e1", "--stage-name", "Build"),
    ).toEqual({
      code: 0,
      stderr: "",
      stdout: printed({ pipelineExecutionId: retried.id, ...withoutId(retried) }),
    });
    expect(bodies()).toEqual([
      {
        query: RETRY_STAGE_MUTATION,
        variables: { executionId: "e1", stageName: "Build", mode: "FAILED_ACTIONS" },
      },
    ]);
  });

  it("sends --retry-mode ALL_ACTIONS", async () => {
    server.respondData({ retryStageExecution: { pipelineExecution: retried } });
    await sluice(
      "retry-stage-execution",
      "--pipeline-execution-id",
      "e1",
      "--stage-name",
      "Build",
      "--retry-mode",
      "ALL_ACTIONS",
    );
    expect(server.requests[0]!.body.variables).toMatchObject({ mode: "ALL_ACTIONS" });
  });

  it.each([
    [
      ["--stage-name", "Build", "--retry-mode", "SOME"],
      "argument 'SOME' is invalid. Allowed choices are FAILED_ACTIONS, ALL_ACTIONS.",
    ],
    [[], "error: required option '--stage-name <name>' not specified"],
  ])("exits 2 for %j", async (args, message) => {
    await expectUsageError(["retry-stage-execution", "--pipeline-execution-id", "e1", ...args], message);
  });
});

describe("rollback-stage", () => {
  it("sends the pipeline, stage and target execution, and prints the new execution", async () => {
    const started = {
      id: "e9",
      pipelineName: "web",
      status: "InProgress",
      trigger: { triggerType: "ManualRollback", triggerDetail: "admin" },
    };
    server.respondData({ rollbackStageV2: { pipelineExecution: started } });
    const result = await sluice(
      "rollback-stage",
      "--name",
      "web",
      "--stage-name",
      "Deploy",
      "--target-pipeline-execution-id",
      "e3",
    );
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: printed({ pipelineExecutionId: started.id, ...withoutId(started) }),
    });
    expect(bodies()).toEqual([
      {
        query: ROLLBACK_STAGE_MUTATION,
        variables: { pipelineName: "web", stageName: "Deploy", targetExecutionId: "e3" },
      },
    ]);
  });

  it("requires the target execution", async () => {
    await expectUsageError(
      ["rollback-stage", "--name", "web", "--stage-name", "Deploy"],
      "error: required option '--target-pipeline-execution-id <id>' not specified",
    );
  });
});

describe("put-approval-result", () => {
  const decided = {
    id: "a2",
    name: "Ok",
    status: "Succeeded",
    summary: "LGTM",
    approvalPending: false,
    approval: { approved: true, summary: "LGTM", by: "admin", at: "2025-01-01T00:00:00.000Z" },
  };
  const approval = { category: "Approval", provider: "Manual" };
  const lookup = (ok: Record<string, unknown>) => ({
    pipelineExecution: {
      id: "e1",
      stages: [
        {
          name: "Build",
          actions: [
            {
              name: "Compile",
              id: "a0",
              status: "Succeeded",
              approvalPending: false,
              actionTypeId: { category: "Build", provider: "Shell" },
            },
          ],
        },
        {
          name: "Prod",
          actions: [
            {
              name: "Ok",
              id: "a2",
              status: "InProgress",
              approvalPending: true,
              actionTypeId: approval,
              ...ok,
            },
          ],
        },
      ],
    },
  });
  const byNames = ["--pipeline-execution-id", "e1", "--stage-name", "Prod", "--action-name", "Ok"];

  it("approves an action execution by id", async () => {
    server.respondData({ putApprovalResultV2: { actionExecution: decided } });
    const result = await sluice(
      "put-approval-result",
      "--action-execution-id",
      "a2",
      "--approve",
      "--summary",
      "LGTM",
    );
    // AWS prints { approvedAt }; the approval action follows.
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: printed({ approvedAt: decided.approval.at, ...decided }),
    });
    expect(bodies()).toEqual([
      {
        query: PUT_APPROVAL_RESULT_MUTATION,
        variables: { actionExecutionId: "a2", approved: true, summary: "LGTM" },
      },
    ]);
  });

  it("finds the pending approval's current attempt by execution, stage and action names", async () => {
    server.respondData(lookup({}), {
      putApprovalResultV2: { actionExecution: { ...decided, status: "Failed" } },
    });
    const result = await sluice("put-approval-result", ...byNames, "--reject");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: "a2", status: "Failed" });
    expect(bodies()).toEqual([
      { query: APPROVAL_LOOKUP_QUERY, variables: { id: "e1" } },
      {
        query: PUT_APPROVAL_RESULT_MUTATION,
        variables: { actionExecutionId: "a2", approved: false, summary: "" },
      },
    ]);
  });

  it.each([
    [
      ["--stage-name", "Nope", "--action-name", "Ok"],
      "error: execution e1 has no stage Nope; its stages: Build, Prod\n",
    ],
    [
      ["--stage-name", "Prod", "--action-name", "Nope"],
      "error: stage Prod of execution e1 has no action Nope; its actions: Ok\n",
    ],
    [
      ["--stage-name", "Build", "--action-name", "Compile"],
      "error: action Build/Compile of execution e1 is not an approval (it is a Build action)\n",
    ],
  ])("exits 1 when the names do not lead to an approval: %j", async (names, stderr) => {
    server.respondData(lookup({}));
    const result = await sluice(
      "put-approval-result",
      "--pipeline-execution-id",
      "e1",
      ...names,
      "--approve",
    );
    expect(result).toEqual({ code: 1, stdout: "", stderr });
    expect(server.requests).toHaveLength(1); // no mutation
  });

  it.each([
    [{ approvalPending: false, status: "Succeeded" }, "status: Succeeded"],
    [{ approvalPending: false, status: null, id: null }, "status: not started"],
  ])("exits 1 when the approval does not wait for a decision (%j)", async (state, status) => {
    server.respondData(lookup(state));
    expect(await sluice("put-approval-result", ...byNames, "--approve")).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: action Prod/Ok of execution e1 is not waiting for a decision (${status})\n`,
    });
    expect(server.requests).toHaveLength(1);
  });

  it("exits 1 for an execution that does not exist", async () => {
    server.respondData({ pipelineExecution: null });
    expect(await sluice("put-approval-result", ...byNames, "--approve")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: execution e1 not found\n",
    });
  });

  it("prints the server's CONFLICT for an approval decided meanwhile", async () => {
    server.respond(
      graphQLError("Action execution a2 is not a manual approval waiting for a decision.", "CONFLICT"),
    );
    const result = await sluice("put-approval-result", "--action-execution-id", "a2", "--reject");
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: Action execution a2 is not a manual approval waiting for a decision. (CONFLICT)\n",
    });
  });

  it.each([
    [["--action-execution-id", "a2"], "error: choose --approve or --reject (or give --result)\n"],
    [
      ["--action-execution-id", "a2", "--approve", "--reject"],
      "error: choose one of --approve and --reject, not both\n",
    ],
    [
      ["--approve"],
      "error: give --action-execution-id, or all of --pipeline-execution-id, --stage-name and --action-name\n",
    ],
    [
      ["--pipeline-execution-id", "e1", "--stage-name", "Prod", "--approve"],
      "error: give --action-execution-id, or all of --pipeline-execution-id, --stage-name and --action-name\n",
    ],
    [
      ["--action-execution-id", "a2", "--stage-name", "Prod", "--approve"],
      "error: give either --action-execution-id or --pipeline-execution-id, --stage-name and --action-name, not both\n",
    ],
  ])("exits 2 for %j without sending anything", async (args, stderr) => {
    expect(await sluice("put-approval-result", ...args)).toEqual({ code: 2, stdout: "", stderr });
    expect(server.requests).toHaveLength(0);
  });
});

describe("disable-stage-transition and enable-stage-transition", () => {
  const disabled = {
    stageName: "Build",
    enabled: false,
    disabledReason: "release freeze",
    disabledBy: "admin",
    disabledAt: "2025-01-01T00:00:00.000Z",
  };

  it("disables with the reason and prints the transition", async () => {
    server.respondData({ disableStageTransition: { transition: disabled } });
    const result = await sluice(
      "disable-stage-transition",
      "--name",
      "web",
      "--stage-name",
      "Build",
      "--reason",
      "release freeze",
    );
    expect(result).toEqual({ code: 0, stderr: "", stdout: printed(disabled) });
    expect(bodies()).toEqual([
      {
        query: DISABLE_TRANSITION_MUTATION,
        variables: { pipelineName: "web", stageName: "Build", reason: "release freeze" },
      },
    ]);
  });

  it("enables with no reason, accepting the AWS CLI's --transition-type Inbound", async () => {
    const enabled = {
      stageName: "Build",
      enabled: true,
      disabledReason: null,
      disabledBy: null,
      disabledAt: null,
    };
    server.respondData({ enableStageTransition: { transition: enabled } });
    const result = await sluice(
      "enable-stage-transition",
      "--name",
      "web",
      "--stage-name",
      "Build",
      "--transition-type",
      "Inbound",
    );
    expect(result).toEqual({ code: 0, stderr: "", stdout: printed(enabled) });
    expect(bodies()).toEqual([
      {
        query: ENABLE_TRANSITION_MUTATION,
        variables: { pipelineName: "web", stageName: "Build" },
      },
    ]);
  });

  it("prints the server's error for the first stage", async () => {
    server.respond(graphQLError("The first stage has no inbound transition.", "BAD_USER_INPUT"));
    const result = await sluice(
      "disable-stage-transition",
      "--name",
      "web",
      "--stage-name",
      "Source",
      "--reason",
      "x",
    );
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: The first stage has no inbound transition. (BAD_USER_INPUT)\n",
    });
  });

  it.each([
    [
      ["disable-stage-transition", "--name", "web", "--stage-name", "Build"],
      "error: required option '--reason <text>' not specified",
    ],
    [
      ["disable-stage-transition", "--name", "web", "--stage-name", "Build", "--reason", "  "],
      "error: --reason must not be empty",
    ],
    [
      ["enable-stage-transition", "--name", "web", "--stage-name", "Build", "--transition-type", "Outbound"],
      "argument 'Outbound' is invalid. Allowed choices are Inbound.",
    ],
    [
      ["enable-stage-transition", "--name", "web"],
      "error: required option '--stage-name <name>' not specified",
    ],
  ])("exits 2 for %j", async (args, message) => {
    await expectUsageError(args, message);
  });
});
