import { GET_PIPELINE_QUERY } from "../src/commands/get-pipeline";
import { GET_PIPELINE_VERSIONS_QUERY } from "../src/commands/get-pipeline-versions";
import { LIST_ACTION_TYPES_QUERY } from "../src/commands/list-action-types";
import { LIST_PIPELINES_QUERY } from "../src/commands/list-pipelines";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);

function summary(name: string) {
  return {
    name,
    version: 1,
    executionMode: "QUEUED",
    createdAt: "2025-01-01T00:00:00Z",
    updatedAt: "2025-01-02T00:00:00Z",
  };
}

/** As `aws codepipeline list-pipelines` prints it. */
function printedSummary(name: string) {
  const { createdAt, updatedAt, ...rest } = summary(name);
  return { ...rest, created: createdAt, updated: updatedAt };
}

function page(names: string[], endCursor: string | null, hasNextPage: boolean) {
  return { pipelines: { nodes: names.map(summary), pageInfo: { hasNextPage, endCursor } } };
}

describe("list-pipelines", () => {
  it("follows pages of 100 until the last one", async () => {
    server.respondData(page(["a", "b"], "c1", true), page(["c"], "c2", true), page(["d"], "c3", false));
    const result = await sluice("list-pipelines");
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: `${JSON.stringify({ pipelines: ["a", "b", "c", "d"].map(printedSummary) }, null, 2)}\n`,
    });
    expect(server.requests.map((r) => r.body.query)).toEqual(Array(3).fill(LIST_PIPELINES_QUERY));
    expect(server.requests.map((r) => r.body.variables)).toEqual([
      { first: 100, after: null },
      { first: 100, after: "c1" },
      { first: 100, after: "c2" },
    ]);
  });

  it("stops once --max-items are read, and prints no more than that", async () => {
    server.respondData(page(["a", "b"], "c1", true), page(["c", "d"], "c2", true));
    const result = await sluice("list-pipelines", "--max-items", "3");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      pipelines: ["a", "b", "c"].map(printedSummary),
      NextToken: expect.any(String),
    });
    expect(server.requests.map((r) => r.body.variables)).toEqual([
      { first: 3, after: null },
      { first: 1, after: "c1" },
    ]);
  });

  it("prints an empty list", async () => {
    server.respondData(page([], null, false));
    const result = await sluice("list-pipelines");
    expect(result).toEqual({ code: 0, stderr: "", stdout: '{\n  "pipelines": []\n}\n' });
  });

  it("fails instead of looping when the cursor does not advance", async () => {
    server.respondData(page(["a"], "c1", true), page(["b"], "c1", true));
    const result = await sluice("list-pipelines");
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: 'error: cannot follow pages: hasNextPage is true but endCursor is "c1"\n',
    });
  });

  it.each(["0", "-1", "x", "1.5"])("rejects --max-items %s as a usage error", async (value) => {
    const result = await sluice("list-pipelines", "--max-items", value);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: option '--max-items <n>' argument '${value}' is invalid`);
    expect(server.requests).toHaveLength(0);
  });
});

describe("get-pipeline", () => {
  const document = {
    name: "a",
    executionMode: "QUEUED",
    variables: [],
    triggers: [],
    stages: [],
    awsMetadata: null,
  };

  it("prints the Sluice document exactly", async () => {
    server.respondData({ pipeline: { document } });
    const result = await sluice("get-pipeline", "--name", "a");
    expect(result).toEqual({ code: 0, stderr: "", stdout: `${JSON.stringify(document, null, 2)}\n` });
    expect(server.requests[0]!.body).toEqual({
      query: GET_PIPELINE_QUERY,
      variables: { name: "a", version: null, format: "SLUICE" },
    });
  });

  it("asks for the AWS format and a given version", async () => {
    const aws = {
      pipeline: { name: "a", version: 3, stages: [] },
      metadata: { pipelineArn: "arn:sluice:a" },
    };
    server.respondData({ pipeline: { document: aws } });
    const result = await sluice("get-pipeline", "--name", "a", "--format", "aws", "--pipeline-version", "3");
    expect(result).toEqual({ code: 0, stderr: "", stdout: `${JSON.stringify(aws, null, 2)}\n` });
    expect(server.requests[0]!.body.variables).toEqual({ name: "a", version: 3, format: "AWS" });
  });

  it("reports a null pipeline as not found", async () => {
    server.respondData({ pipeline: null });
    expect(await sluice("get-pipeline", "--name", "nope")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: pipeline nope not found\n",
    });
  });

  it("names the version when a given version is not found", async () => {
    server.respondData({ pipeline: null });
    const result = await sluice("get-pipeline", "--name", "a", "--pipeline-version", "9");
    expect(result.stderr).toBe("error: pipeline a version 9 not found\n");
    expect(result.code).toBe(1);
  });

  it("prints a NOT_FOUND error from the server", async () => {
    server.respond({
      body: {
        errors: [
          { message: "Pipeline nope does not exist.", path: ["pipeline"], extensions: { code: "NOT_FOUND" } },
        ],
        data: { pipeline: null },
      },
    });
    expect(await sluice("get-pipeline", "--name", "nope")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: Pipeline nope does not exist. (NOT_FOUND)\n",
    });
  });

  it("rejects an unknown --format", async () => {
    const result = await sluice("get-pipeline", "--name", "a", "--format", "yaml");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: option '--format <format>' argument 'yaml' is invalid");
    expect(server.requests).toHaveLength(0);
  });

  it("requires --name", async () => {
    const result = await sluice("get-pipeline");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: required option '--name <name>' not specified");
  });
});

describe("list-action-types", () => {
  it("prints the action types", async () => {
    const actionTypes = [
      {
        id: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
        description: "Runs a shell command",
        configurationProperties: [
          { name: "Command", required: true, secret: false, description: "the command" },
        ],
        inputArtifactDetails: { minimumCount: 0, maximumCount: 5 },
        outputArtifactDetails: { minimumCount: 0, maximumCount: 5 },
      },
    ];
    server.respondData({
      listActionTypes: { nodes: actionTypes, pageInfo: { hasNextPage: false, endCursor: null } },
    });
    const result = await sluice("list-action-types");
    expect(result).toEqual({ code: 0, stderr: "", stdout: `${JSON.stringify({ actionTypes }, null, 2)}\n` });
    expect(server.requests[0]!.body).toEqual({
      query: LIST_ACTION_TYPES_QUERY,
      variables: { first: 100, after: null },
    });
  });
});

describe("get-pipeline-versions", () => {
  it("prints the versions", async () => {
    const nodes = [
      { version: 2, createdAt: "2025-01-02T00:00:00Z", createdBy: "alice" },
      { version: 1, createdAt: "2025-01-01T00:00:00Z", createdBy: null },
    ];
    server.respondData({ pipeline: { versions: { nodes } } });
    const result = await sluice("get-pipeline-versions", "--name", "a");
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: `${JSON.stringify({ versions: nodes }, null, 2)}\n`,
    });
    expect(server.requests[0]!.body).toEqual({
      query: GET_PIPELINE_VERSIONS_QUERY,
      variables: { name: "a" },
    });
  });

  it("reports a missing pipeline", async () => {
    server.respondData({ pipeline: null });
    expect(await sluice("get-pipeline-versions", "--name", "x")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: pipeline x not found\n",
    });
  });
});
