/**
 * The `aws codepipeline` option names the commands accept besides their own (README: "AWS option
 * names"): the same request as with our name, a usage error naming both when the two disagree, and
 * the AWS CLI's `put-approval-result --result` JSON.
 */
import {
  DISABLE_TRANSITION_MUTATION,
  ENABLE_TRANSITION_MUTATION,
} from "../src/commands/disable-stage-transition";
import { GET_PIPELINE_EXECUTION_QUERY } from "../src/commands/get-pipeline-execution";
import { LIST_PIPELINE_EXECUTIONS_QUERY } from "../src/commands/list-pipeline-executions";
import { APPROVAL_LOOKUP_QUERY, PUT_APPROVAL_RESULT_MUTATION } from "../src/commands/put-approval-result";
import { RETRY_STAGE_MUTATION } from "../src/commands/retry-stage-execution";
import { ROLLBACK_STAGE_MUTATION } from "../src/commands/rollback-stage";
import { STOP_EXECUTION_MUTATION } from "../src/commands/stop-pipeline-execution";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);
const bodies = () => server.requests.map((r) => r.body);

/** Runs `args` and checks it stops with exit 2 and `message` on stderr, sending nothing. */
async function expectUsageError(args: string[], message: string) {
  const result = await sluice(...args);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr).toContain(message);
  expect(server.requests).toHaveLength(0);
}

const emptyPage = {
  pipeline: { executions: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } },
};

/** The commands where `--pipeline-name` is the AWS name of our `--name`: the rest of the arguments,
 * what the server answers, and the request that must go out. */
const NAME_ALIASES: [string, string[], unknown, { query: string; variables: Record<string, unknown> }][] = [
  [
    "list-pipeline-executions",
    [],
    emptyPage,
    {
      query: LIST_PIPELINE_EXECUTIONS_QUERY,
      variables: { name: "web", first: 100, after: null, status: null },
    },
  ],
  [
    "rollback-stage",
    ["--stage-name", "Deploy", "--target-pipeline-execution-id", "e3"],
    { rollbackStageV2: { pipelineExecution: { id: "e9" } } },
    {
      query: ROLLBACK_STAGE_MUTATION,
      variables: { pipelineName: "web", stageName: "Deploy", targetExecutionId: "e3" },
    },
  ],
  [
    "enable-stage-transition",
    ["--stage-name", "Build", "--transition-type", "Inbound"],
    { enableStageTransition: { transition: { stageName: "Build", enabled: true } } },
    {
      query: ENABLE_TRANSITION_MUTATION,
      variables: { pipelineName: "web", stageName: "Build" },
    },
  ],
  [
    "disable-stage-transition",
    ["--stage-name", "Build", "--reason", "freeze"],
    { disableStageTransition: { transition: { stageName: "Build", enabled: false } } },
    {
      query: DISABLE_TRANSITION_MUTATION,
      variables: { pipelineName: "web", stageName: "Build", reason: "freeze" },
    },
  ],
];

describe.each(NAME_ALIASES)("%s --pipeline-name", (command, rest, answer, request) => {
  it("works as --name", async () => {
    server.respondData(answer);
    const result = await sluice(command, "--pipeline-name", "web", ...rest);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(bodies()).toEqual([request]);
  });

  it("may be given with --name when both say the same", async () => {
    server.respondData(answer);
    const result = await sluice(command, "--name", "web", "--pipeline-name", "web", ...rest);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(bodies()).toEqual([request]);
  });

  it("exits 2 naming both options when it disagrees with --name", async () => {
    await expectUsageError(
      [command, "--name", "web", "--pipeline-name", "api", ...rest],
      'error: --name "web" and --pipeline-name "api" disagree; give one of them\n',
    );
  });

  it("exits 2 when neither name is given", async () => {
    await expectUsageError(
      [command, ...rest],
      "error: required option '--name <name>' (or --pipeline-name) not specified\n",
    );
  });

  it("is mentioned once in --help, in --name's line", async () => {
    const { code, stdout } = await run([command, "--help"]);
    expect(code).toBe(0);
    const lines = stdout.split("\n").filter((line) => line.includes("--pipeline-name"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\s*--name <name>\s+pipeline name \(also --pipeline-name\)$/);
  });
});

describe("--pipeline-name where the execution id identifies the execution", () => {
  it("stop-pipeline-execution accepts it and sends what it sends without it", async () => {
    server.respondData({ stopPipelineExecution: { pipelineExecution: { id: "e1" } } });
    const result = await sluice(
      "stop-pipeline-execution",
      "--pipeline-name",
      "web",
      "--pipeline-execution-id",
      "e1",
      "--reason",
      "bad build",
    );
    expect(result.code).toBe(0);
    expect(bodies()).toEqual([
      {
        query: STOP_EXECUTION_MUTATION,
        variables: { executionId: "e1", abandon: false, reason: "bad build" },
      },
    ]);
  });

  it("retry-stage-execution accepts it and sends what it sends without it", async () => {
    server.respondData({ retryStageExecution: { pipelineExecution: { id: "e1" } } });
    const result = await sluice(
      "retry-stage-execution",
      "--pipeline-name",
      "web",
      "--stage-name",
      "Build",
      "--pipeline-execution-id",
      "e1",
      "--retry-mode",
      "ALL_ACTIONS",
    );
    expect(result.code).toBe(0);
    expect(bodies()).toEqual([
      {
        query: RETRY_STAGE_MUTATION,
        variables: { executionId: "e1", stageName: "Build", mode: "ALL_ACTIONS" },
      },
    ]);
  });

  it.each(["stop-pipeline-execution", "retry-stage-execution"])(
    "%s --help says it is not checked",
    async (c) => {
      const { stdout } = await run([c, "--help"]);
      expect(stdout).toMatch(/--pipeline-name <name>\s+accepted for AWS CLI compatibility;\s+not\s+checked/);
    },
  );

  it("get-pipeline-execution prints the execution when it belongs to the pipeline", async () => {
    const execution = { id: "e1", pipelineName: "web", status: "Succeeded" };
    server.respondData({ pipelineExecution: execution });
    const result = await sluice(
      "get-pipeline-execution",
      "--pipeline-name",
      "web",
      "--pipeline-execution-id",
      "e1",
    );
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: `${JSON.stringify({ pipelineExecution: { pipelineExecutionId: "e1", pipelineName: "web", status: "Succeeded" } }, null, 2)}\n`,
    });
    expect(bodies()).toEqual([{ query: GET_PIPELINE_EXECUTION_QUERY, variables: { id: "e1" } }]);
  });

  it("get-pipeline-execution exits 1 when the execution belongs to another pipeline", async () => {
    server.respondData({ pipelineExecution: { id: "e1", pipelineName: "web", status: "Succeeded" } });
    expect(
      await sluice("get-pipeline-execution", "--pipeline-name", "api", "--pipeline-execution-id", "e1"),
    ).toEqual({ code: 1, stdout: "", stderr: "error: execution e1 belongs to pipeline web, not api\n" });
  });
});

describe("put-approval-result, AWS CLI style", () => {
  const decided = { id: "a2", name: "Ok", status: "Succeeded" };
  const lookup = {
    pipelineExecution: {
      id: "e1",
      pipelineName: "web",
      stages: [
        {
          name: "Prod",
          actions: [
            {
              name: "Ok",
              id: "a2",
              status: "InProgress",
              approvalPending: true,
              actionTypeId: { category: "Approval", provider: "Manual" },
            },
          ],
        },
      ],
    },
  };
  const byNames = ["--pipeline-execution-id", "e1", "--stage-name", "Prod", "--action-name", "Ok"];
  const mutation = (approved: boolean, summary: string) => ({
    query: PUT_APPROVAL_RESULT_MUTATION,
    variables: { actionExecutionId: "a2", approved, summary },
  });

  it.each([
    ['{"summary":"LGTM","status":"Approved"}', true, "LGTM"],
    ['{"summary":"broken","status":"Rejected"}', false, "broken"],
    ['{"status":"Approved"}', true, ""],
    [' { "status" : "Rejected" } ', false, ""],
  ])("maps --result %s to approved=%s, summary %j", async (result, approved, summary) => {
    server.respondData({ putApprovalResultV2: { actionExecution: decided } });
    const out = await sluice("put-approval-result", "--action-execution-id", "a2", "--result", result);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(bodies()).toEqual([mutation(approved, summary)]);
  });

  it.each([
    [["--approve"], true, "LGTM"],
    [["--approve", "--summary", "LGTM"], true, "LGTM"],
  ])("accepts --result with %j when they agree", async (more, approved, summary) => {
    server.respondData({ putApprovalResultV2: { actionExecution: decided } });
    const result = await sluice(
      "put-approval-result",
      "--action-execution-id",
      "a2",
      "--result",
      '{"summary":"LGTM","status":"Approved"}',
      ...more,
    );
    expect(result.code).toBe(0);
    expect(bodies()).toEqual([mutation(approved, summary)]);
  });

  it("takes --summary with a --result that has none", async () => {
    server.respondData({ putApprovalResultV2: { actionExecution: decided } });
    const result = await sluice(
      "put-approval-result",
      "--action-execution-id",
      "a2",
      "--result",
      '{"status":"Rejected"}',
      "--summary",
      "no",
    );
    expect(result.code).toBe(0);
    expect(bodies()).toEqual([mutation(false, "no")]);
  });

  it.each([
    [
      ["--result", '{"summary":"x","status":"Approved"}', "--reject"],
      'error: --reject and --result "status" "Approved" disagree; give one of them\n',
    ],
    [
      ["--result", '{"status":"Rejected"}', "--approve"],
      'error: --approve and --result "status" "Rejected" disagree; give one of them\n',
    ],
    [
      ["--result", '{"summary":"a","status":"Approved"}', "--summary", "b"],
      'error: --summary "b" and --result "summary" "a" disagree; give one of them\n',
    ],
  ])("exits 2 naming both options when they disagree: %j", async (args, stderr) => {
    expect(await sluice("put-approval-result", "--action-execution-id", "a2", ...args)).toEqual({
      code: 2,
      stdout: "",
      stderr,
    });
    expect(server.requests).toHaveLength(0);
  });

  const SHAPE = '{"summary":"...","status":"Approved|Rejected"}';
  it.each([
    ["Approved", `error: --result must be a JSON object: ${SHAPE}\n`],
    ["summary=ok,status=Approved", `error: --result must be a JSON object: ${SHAPE}\n`],
    ['["Approved"]', `error: --result must be a JSON object: ${SHAPE}\n`],
    ["{status:Approved}", "error: invalid JSON in --result at line 1, column 2 (position 1): "],
    ["{}", 'error: --result "status" must be "Approved" or "Rejected" (it is missing)\n'],
    [
      '{"status":"approved"}',
      'error: --result "status" must be "Approved" or "Rejected" (it is "approved")\n',
    ],
    ['{"status":"Approve"}', 'error: --result "status" must be "Approved" or "Rejected" (it is "Approve")\n'],
    ['{"status":true}', 'error: --result "status" must be "Approved" or "Rejected" (it is true)\n'],
    ['{"status":"Approved","summary":3}', 'error: --result "summary" must be a string\n'],
    ['{"status":"Approved","comment":"x"}', `error: --result has an unknown key "comment": ${SHAPE}\n`],
  ])("exits 2 for --result %s without sending anything", async (value, message) => {
    await expectUsageError(
      ["put-approval-result", "--action-execution-id", "a2", "--result", value],
      message,
    );
  });

  it("checks --pipeline-name against the execution it looks up by names", async () => {
    server.respondData(lookup, { putApprovalResultV2: { actionExecution: decided } });
    const result = await sluice(
      "put-approval-result",
      "--pipeline-name",
      "web",
      ...byNames,
      "--result",
      '{"summary":"ok","status":"Approved"}',
    );
    expect(result.code).toBe(0);
    expect(bodies()).toEqual([
      { query: APPROVAL_LOOKUP_QUERY, variables: { id: "e1" } },
      mutation(true, "ok"),
    ]);
    expect(APPROVAL_LOOKUP_QUERY).toContain("pipelineExecution(id:$id){ id pipelineName ");
  });

  it("exits 1 without deciding when the execution belongs to another pipeline", async () => {
    server.respondData(lookup);
    expect(await sluice("put-approval-result", "--pipeline-name", "api", ...byNames, "--approve")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: execution e1 belongs to pipeline web, not api\n",
    });
    expect(server.requests).toHaveLength(1); // the lookup, no mutation
  });

  it("accepts --pipeline-name with --action-execution-id, unchecked", async () => {
    server.respondData({ putApprovalResultV2: { actionExecution: decided } });
    const result = await sluice(
      "put-approval-result",
      "--pipeline-name",
      "web",
      "--action-execution-id",
      "a2",
      "--approve",
    );
    expect(result.code).toBe(0);
    expect(bodies()).toEqual([mutation(true, "")]);
  });

  it("says where the AWS CLI's approval token goes when the AWS form lacks the approval", async () => {
    await expectUsageError(
      [
        "put-approval-result",
        "--pipeline-name",
        "web",
        "--stage-name",
        "Prod",
        "--action-name",
        "Ok",
        "--result",
        '{"summary":"ok","status":"Approved"}',
      ],
      "error: give --action-execution-id, or all of --pipeline-execution-id, --stage-name and --action-name (the approval token the AWS CLI takes as --token is --action-execution-id here; sluice's --token is the API bearer token)\n",
    );
  });

  it("keeps --token after the command name as the API bearer token", async () => {
    server.respondData({ putApprovalResultV2: { actionExecution: decided } });
    const result = await sluice(
      "put-approval-result",
      "--action-execution-id",
      "a2",
      "--approve",
      "--token",
      "t1",
    );
    expect(result.code).toBe(0);
    expect(server.requests[0]!.headers["authorization"]).toBe("Bearer t1");
    expect(server.requests[0]!.body).toEqual(mutation(true, ""));
  });

  it("shows --result and --pipeline-name in --help", async () => {
    const { stdout } = await run(["put-approval-result", "--help"]);
    expect(stdout).toContain(`--result <json>`);
    expect(stdout).toContain(SHAPE);
    expect(stdout).toMatch(/--pipeline-name <name>\s+AWS CLI option/);
  });
});
