import { GET_PIPELINE_STATE_QUERY } from "../src/commands/get-pipeline-state";
import { LIST_PIPELINE_EXECUTIONS_QUERY } from "../src/commands/list-pipeline-executions";
import { START_EXECUTION_MUTATION } from "../src/commands/start-pipeline-execution";
import { buildProgram } from "../src/main";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (args: string[], stdin?: string) =>
  run([...args, "--endpoint", server.endpoint], stdin === undefined ? {} : { stdin });
const emptyExecutions = {
  pipeline: { executions: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } },
};

describe("--cli-input-json and --cli-input-yaml on every command", () => {
  it("fills a required option from the input, with the AWS CLI's key names", async () => {
    server.respondData(emptyExecutions);
    const result = await sluice([
      "list-pipeline-executions",
      "--cli-input-json",
      '{"pipelineName":"web","status":["Failed","Stopped"],"maxItems":5}',
    ]);
    expect(result).toEqual({ code: 0, stderr: "", stdout: '{\n  "pipelineExecutionSummaries": []\n}\n' });
    expect(server.requests[0]!.body).toEqual({
      query: LIST_PIPELINE_EXECUTIONS_QUERY,
      variables: { name: "web", first: 5, after: null, status: ["Failed", "Stopped"] },
    });
  });

  it("the command line wins over the input", async () => {
    server.respondData({ pipeline: null });
    const result = await sluice(["get-pipeline-state", "--cli-input-json", '{"name":"a"}', "--name", "b"]);
    expect(result.stderr).toBe("error: pipeline b not found\n");
    expect(server.requests[0]!.body).toEqual({ query: GET_PIPELINE_STATE_QUERY, variables: { name: "b" } });
  });

  it("reads YAML from stdin, with repeatable Key=Value options as lists and flags as booleans", async () => {
    server.respondData({ startPipelineExecution: { pipelineExecution: { id: "e1" } } });
    const yaml = "name: web\nvariable:\n  - Env=prod\n  - Region=eu\nclientRequestToken: t1\n";
    const result = await sluice(["start-pipeline-execution", "--cli-input-yaml", "-"], yaml);
    expect(result).toEqual({ code: 0, stderr: "", stdout: '{\n  "pipelineExecutionId": "e1"\n}\n' });
    expect(server.requests[0]!.body).toEqual({
      query: START_EXECUTION_MUTATION,
      variables: {
        pipelineName: "web",
        sourceRevisions: null,
        variables: [
          { name: "Env", value: "prod" },
          { name: "Region", value: "eu" },
        ],
        clientRequestToken: "t1",
      },
    });
  });

  it.each([
    ['{"nmae":"web"}', 'get-pipeline-state has no option "nmae" (known: name)'],
    ["[1]", "--cli-input-json must be an object of option values"],
    ['{"name":{"a":1}}', "--cli-input-json name: expected a string or number"],
  ])("exits 2 for the input %s before any request", async (input, message) => {
    const result = await sluice(["get-pipeline-state", "--cli-input-json", input]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(server.requests).toHaveLength(0);
  });

  it("checks values as the command line would", async () => {
    const result = await sluice(["list-pipelines", "--cli-input-json", '{"maxItems":0}']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--cli-input-json maxItems: expected a positive integer.");
    const flag = await sluice(["list-pipelines", "--cli-input-json", '{"paginate":"no"}']);
    expect(flag.stderr).toContain("--cli-input-json paginate: expected true or false");
    expect(server.requests).toHaveLength(0);
  });
});

describe("--generate-cli-skeleton", () => {
  it("prints the input template derived from the command's options, without a request", async () => {
    const result = await sluice(["list-pipeline-executions", "--generate-cli-skeleton"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      name: "",
      status: ["Succeeded"], // a value its parser accepts
      pageSize: 0,
      maxItems: 0,
      startingToken: "",
      paginate: true,
    });
    expect(server.requests).toHaveLength(0);
  });

  it("yaml-input, and output for a command with a known output shape", async () => {
    const yaml = await sluice(["get-pipeline-state", "--generate-cli-skeleton", "yaml-input"]);
    expect(yaml).toEqual({ code: 0, stderr: "", stdout: 'name: ""\n' });
    const output = await sluice(["get-pipeline-state", "--generate-cli-skeleton", "output"]);
    expect(JSON.parse(output.stdout)).toMatchObject({ stageStates: [{ stageName: "", actionStates: [{}] }] });
  });

  it("prints an input skeleton for every command", async () => {
    const program = buildProgram({ stdout: () => {}, stderr: () => {}, readStdin: async () => "", env: {} });
    for (const command of program.commands.filter((c) => c.name() !== "completion")) {
      const skeleton = await sluice([command.name(), "--generate-cli-skeleton"]);
      expect({ command: command.name(), code: skeleton.code }).toEqual({ command: command.name(), code: 0 });
      expect(JSON.parse(skeleton.stdout)).toEqual(expect.any(Object));
    }
  });

  it("the template of a document command is the document, AWS CLI form", async () => {
    const result = await sluice(["create-pipeline", "--generate-cli-skeleton"]);
    expect(JSON.parse(result.stdout)).toMatchObject({ pipeline: { name: "", stages: [expect.any(Object)] } });
  });
});
