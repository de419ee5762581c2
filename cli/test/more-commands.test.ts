import {
  CREATE_CUSTOM_ACTION_TYPE_MUTATION,
  DELETE_CUSTOM_ACTION_TYPE_MUTATION,
} from "../src/commands/custom-action-type";
import { LIST_AUDIT_EVENTS_QUERY } from "../src/commands/list-audit-events";
import {
  CREATE_WEBHOOK_MUTATION,
  DELETE_WEBHOOK_MUTATION,
  STORE_SECRET_NOTICE,
} from "../src/commands/pipeline-webhook";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);
const bodies = () => server.requests.map((r) => r.body);

describe("list-audit-events", () => {
  const event = (id: string) => ({
    id,
    at: "t",
    principal: "admin",
    operation: "createPipeline",
    outcome: "ok",
  });
  const page = (ids: string[], endCursor: string, hasNextPage: boolean) => ({
    auditEvents: { nodes: ids.map(event), pageInfo: { hasNextPage, endCursor } },
  });

  it("sends the filters and paginates as the other list commands", async () => {
    server.respondData(page(["1", "2"], "c1", true));
    const result = await sluice(
      "list-audit-events",
      "--pipeline-name",
      "web",
      "--operation",
      "createPipeline",
      "--max-items",
      "2",
    );
    expect(JSON.parse(result.stdout)).toEqual({
      auditEvents: [event("1"), event("2")],
      NextToken: expect.any(String),
    });
    expect(bodies()).toEqual([
      {
        query: LIST_AUDIT_EVENTS_QUERY,
        variables: {
          first: 2,
          after: null,
          pipelineName: "web",
          principal: null,
          operation: "createPipeline",
        },
      },
    ]);
  });
});

describe("pipeline webhooks", () => {
  it("create-pipeline-webhook prints the url and the secret, with a notice on stderr", async () => {
    server.respondData({ putWebhook: { url: "https://s/webhooks/x", secret: "s3" } });
    const result = await sluice("create-pipeline-webhook", "--pipeline-name", "web");
    expect(result).toEqual({
      code: 0,
      stdout: '{\n  "webhook": {\n    "url": "https://s/webhooks/x",\n    "secret": "s3"\n  }\n}\n',
      stderr: `${STORE_SECRET_NOTICE}\n`,
    });
    expect(bodies()).toEqual([{ query: CREATE_WEBHOOK_MUTATION, variables: { pipelineName: "web" } }]);
  });

  it("delete-pipeline-webhook prints nothing", async () => {
    server.respondData({ deleteWebhook: { pipelineName: "x" } });
    expect(await sluice("delete-pipeline-webhook", "--pipeline-name", "web")).toEqual({
      code: 0,
      stdout: "",
      stderr: "",
    });
    expect(bodies()).toEqual([{ query: DELETE_WEBHOOK_MUTATION, variables: { pipelineName: "web" } }]);
  });
});

describe("custom action types", () => {
  const awsInput = {
    category: "Build",
    provider: "Make",
    version: "1",
    settings: { entityUrlTemplate: "https://make" },
    configurationProperties: [{ name: "Target", required: true, key: true, secret: false, queryable: false }],
    inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    tags: [{ key: "team", value: "web" }],
  };

  it("create-custom-action-type takes the AWS CLI's input and prints AWS's { actionType }", async () => {
    const declared = {
      id: { category: "Build", owner: "Custom", provider: "Make", version: "1" },
      settings: { entityUrlTemplate: "https://make" },
      configurationProperties: [{ name: "Target", required: true }],
      inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
      outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    };
    server.respondData({ createCustomActionTypeV2: { actionType: declared } });
    const result = await sluice("create-custom-action-type", "--cli-input-json", JSON.stringify(awsInput));
    expect(result.code).toBe(0);
    const { configurationProperties, ...rest } = declared;
    expect(JSON.parse(result.stdout)).toEqual({
      actionType: { ...rest, actionConfigurationProperties: configurationProperties },
    });
    const { tags: _tags, ...input } = awsInput; // Sluice has no tags
    expect(bodies()).toEqual([{ query: CREATE_CUSTOM_ACTION_TYPE_MUTATION, variables: { input } }]);
  });

  it("delete-custom-action-type takes --version as the AWS CLI does (the CLI's own version is sluice --version)", async () => {
    server.respondData({
      deleteCustomActionTypeV2: {
        deletedActionTypeId: { category: "Build", owner: "Custom", provider: "x", version: "1" },
      },
    });
    const result = await sluice(
      "delete-custom-action-type",
      "--category",
      "Build",
      "--provider",
      "Make",
      "--version",
      "1",
    );
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(bodies()).toEqual([
      {
        query: DELETE_CUSTOM_ACTION_TYPE_MUTATION,
        variables: { category: "Build", provider: "Make", version: "1" },
      },
    ]);
    const version = await run(["--output", "json", "--version"]);
    expect(version.stdout).toMatch(/^sluice\//);
  });

  it("its input skeleton is the AWS CLI's input", async () => {
    const result = await sluice("create-custom-action-type", "--generate-cli-skeleton");
    expect(Object.keys(JSON.parse(result.stdout)).sort()).toEqual(
      Object.keys(awsInput)
        .filter((k) => k !== "tags")
        .sort(),
    );
  });
});

describe("list-action-executions", () => {
  const attempt = (id: string, n: number, startTime: string) => ({
    id,
    attempt: n,
    status: "Succeeded",
    summary: "ok",
    startTime,
    endTime: null,
    externalUrl: null,
    errorDetails: null,
    resolvedConfiguration: {},
    outputVariables: {},
    agent: null,
  });
  const execution = (id: string, attempts: ReturnType<typeof attempt>[]) => ({
    id,
    pipelineName: "web",
    pipelineVersion: 1,
    stages: [
      { name: "Build", actions: [{ name: "Compile", actionTypeId: { category: "Build" }, attempts }] },
    ],
  });
  const page = (executions: unknown[], endCursor: string, hasNextPage: boolean) => ({
    pipeline: { executions: { nodes: executions, pageInfo: { hasNextPage, endCursor } } },
  });

  it("flattens the executions' attempts into AWS's actionExecutionDetails, newest first, with NextToken", async () => {
    server.respondData(
      page(
        [
          execution("e2", [attempt("a3", 1, "2025-01-03")]),
          execution("e1", [attempt("a1", 1, "2025-01-01"), attempt("a2", 2, "2025-01-02")]),
        ],
        "c1",
        false,
      ),
    );
    const result = await sluice("list-action-executions", "--pipeline-name", "web", "--max-items", "2");
    const output = JSON.parse(result.stdout);
    expect(
      output.actionExecutionDetails.map((d: { actionExecutionId: string }) => d.actionExecutionId),
    ).toEqual(["a3", "a2"]);
    expect(output.actionExecutionDetails[0]).toMatchObject({
      pipelineExecutionId: "e2",
      stageName: "Build",
      actionName: "Compile",
      status: "Succeeded",
      lastUpdateTime: "2025-01-03",
      output: { executionResult: { externalExecutionSummary: "ok" } },
    });
    expect(typeof output.NextToken).toBe("string");
    expect(server.requests[0]!.body.variables).toEqual({ name: "web", first: 20, after: null });
  });

  it("--filter pipelineExecutionId=E reads that execution only, and checks its pipeline", async () => {
    server.respondData({ pipelineExecution: execution("e1", [attempt("a1", 1, "t")]) });
    const result = await sluice(
      "list-action-executions",
      "--pipeline-name",
      "web",
      "--filter",
      "pipelineExecutionId=e1",
      "--query",
      "actionExecutionDetails[].actionExecutionId",
      "--output",
      "text",
    );
    expect(result).toEqual({ code: 0, stderr: "", stdout: "a1\n" });
    server.respondData({ pipelineExecution: execution("e1", []) });
    const other = await sluice(
      "list-action-executions",
      "--pipeline-name",
      "api",
      "--filter",
      '{"pipelineExecutionId":"e1"}',
    );
    expect(other).toEqual({ code: 1, stdout: "", stderr: "error: pipeline api has no execution e1\n" });
  });

  it("a malformed --filter exits 2", async () => {
    const result = await sluice("list-action-executions", "--pipeline-name", "web", "--filter", "e1");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("expected pipelineExecutionId=<id> or its JSON form.");
  });
});
