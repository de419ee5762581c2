import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CREATE_PIPELINE_MUTATION } from "../src/commands/create-pipeline";
import { DELETE_PIPELINE_MUTATION } from "../src/commands/delete-pipeline";
import { IMPORT_PIPELINE_MUTATION } from "../src/commands/import-pipeline";
import { CURRENT_VERSION_QUERY, UPDATE_PIPELINE_MUTATION } from "../src/commands/update-pipeline";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run, type RunOptions } from "./helpers/run";

const document = {
  name: "a",
  executionMode: "QUEUED",
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
          configuration: { Url: "https://example.test/repo.git" },
          outputArtifacts: [{ name: "src" }],
        },
      ],
    },
  ],
};

let server: FakeGraphQLServer;
let dir: string;
beforeEach(async () => {
  server = await startFakeServer();
  dir = await mkdtemp(join(tmpdir(), "sluice-cli-write-"));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const sluice = (args: string[], options?: RunOptions) =>
  run([...args, "--endpoint", server.endpoint], options);

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return `file://${path}`;
}

describe("create-pipeline", () => {
  it("sends the document from a file and prints the created name and version", async () => {
    server.respondData({ createPipelineV2: { pipeline: { name: "a", version: 1 } } });
    const result = await sluice(["create-pipeline", "--cli-input-json", await file("a.json", document)]);
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: '{\n  "pipeline": {\n    "name": "a",\n    "version": 1\n  }\n}\n',
    });
    expect(server.requests[0]!.body).toEqual({
      query: CREATE_PIPELINE_MUTATION,
      variables: { input: document },
    });
  });

  it('unwraps an AWS CLI style { "pipeline": ... } input', async () => {
    server.respondData({ createPipelineV2: { pipeline: { name: "a", version: 1 } } });
    const input = JSON.stringify({ pipeline: document });
    const result = await sluice(["create-pipeline", "--cli-input-json", input]);
    expect(result.code).toBe(0);
    expect(server.requests[0]!.body.variables).toEqual({ input: document });
  });

  it("reads the document from stdin", async () => {
    server.respondData({ createPipelineV2: { pipeline: { name: "a", version: 1 } } });
    const result = await sluice(["create-pipeline", "--cli-input-json", "-"], {
      stdin: JSON.stringify(document),
    });
    expect(result.code).toBe(0);
    expect(server.requests[0]!.body.variables).toEqual({ input: document });
  });

  it("prints each validation error of a BAD_USER_INPUT response on its own line", async () => {
    server.respond({
      body: {
        errors: [
          {
            message:
              "Invalid input: stages[0].actions[0].runOrder: must be between 1 and 999 (and 1 more problem)",
            path: ["createPipeline"],
            extensions: {
              code: "BAD_USER_INPUT",
              validationErrors: [
                { path: "stages[0].actions[0].runOrder", message: "must be between 1 and 999" },
                {
                  path: "stages[0].actions[0].outputArtifacts[0].name",
                  message: "is already used by another action",
                },
              ],
            },
          },
        ],
        data: null,
      },
    });
    const result = await sluice(["create-pipeline", "--cli-input-json", JSON.stringify(document)]);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "error: Invalid input: stages[0].actions[0].runOrder: must be between 1 and 999 (and 1 more problem) (BAD_USER_INPUT)\n" +
        "  stages[0].actions[0].runOrder: must be between 1 and 999\n" +
        "  stages[0].actions[0].outputArtifacts[0].name: is already used by another action\n",
    });
  });

  it("prints the errors of an HTTP 400 GraphQL response (e.g. variable coercion)", async () => {
    server.respond({
      status: 400,
      body: {
        errors: [
          {
            message:
              'Variable "$input" got invalid value "x"; Expected type "PipelineInput" to be an object.',
            extensions: { code: "BAD_USER_INPUT" },
          },
        ],
      },
    });
    const result = await sluice(["create-pipeline", "--cli-input-json", JSON.stringify(document)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Variable "$input" got invalid value "x"; Expected type "PipelineInput" to be an object. (BAD_USER_INPUT)\n',
    );
  });

  it("stops with exit 2 on a missing file, without calling the server", async () => {
    const spec = `file://${join(dir, "missing.json")}`;
    const result = await sluice(["create-pipeline", "--cli-input-json", spec]);
    expect(result).toEqual({ code: 2, stdout: "", stderr: `error: cannot read ${spec}: no such file\n` });
    expect(server.requests).toHaveLength(0);
  });

  it("stops with exit 2 on invalid JSON, naming the file and the position", async () => {
    const spec = await file("bad.json", '{\n  "name": "a",\n  "stages": [,]\n}\n');
    const result = await sluice(["create-pipeline", "--cli-input-json", spec]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: `error: invalid JSON in ${spec} at line 3, column 14 (position 30): unexpected ',', expected a value\n`,
    });
    expect(server.requests).toHaveLength(0);
  });

  it("requires a JSON object", async () => {
    const result = await sluice(["create-pipeline", "--cli-input-json", "[1]"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'error: --cli-input-json must be a JSON object (a pipeline document or { "pipeline": { ... } })\n',
    );
  });
});

describe("update-pipeline", () => {
  it("fetches the current version when --expected-version is missing", async () => {
    server.respondData(
      { pipeline: { version: 4 } },
      { updatePipelineV2: { pipeline: { name: "a", version: 5 } } },
    );
    const result = await sluice(["update-pipeline", "--cli-input-json", await file("a.json", document)]);
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: '{\n  "pipeline": {\n    "name": "a",\n    "version": 5\n  }\n}\n',
    });
    expect(server.requests.map((r) => r.body)).toEqual([
      { query: CURRENT_VERSION_QUERY, variables: { name: "a" } },
      { query: UPDATE_PIPELINE_MUTATION, variables: { input: document, expectedVersion: 4 } },
    ]);
  });

  it("uses --expected-version as given, in one request", async () => {
    server.respondData({ updatePipelineV2: { pipeline: { name: "a", version: 3 } } });
    const input = JSON.stringify({ pipeline: document });
    const result = await sluice(["update-pipeline", "--cli-input-json", input, "--expected-version", "2"]);
    expect(result.code).toBe(0);
    expect(server.requests.map((r) => r.body)).toEqual([
      { query: UPDATE_PIPELINE_MUTATION, variables: { input: document, expectedVersion: 2 } },
    ]);
  });

  it("prints a CONFLICT error", async () => {
    server.respond({
      body: {
        errors: [{ message: "pipeline a is at version 3, not 2", extensions: { code: "CONFLICT" } }],
        data: null,
      },
    });
    const result = await sluice([
      "update-pipeline",
      "--cli-input-json",
      JSON.stringify(document),
      "--expected-version",
      "2",
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: pipeline a is at version 3, not 2 (CONFLICT)\n",
    });
  });

  it("reports a pipeline that does not exist yet", async () => {
    server.respondData({ pipeline: null });
    const result = await sluice(["update-pipeline", "--cli-input-json", JSON.stringify(document)]);
    expect(result).toEqual({ code: 1, stdout: "", stderr: "error: pipeline a not found\n" });
    expect(server.requests).toHaveLength(1);
  });

  it("needs the document's name to look up the version", async () => {
    const result = await sluice(["update-pipeline", "--cli-input-json", '{"stages":[]}']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: the document has no "name"; cannot look up its current version\n');
    expect(server.requests).toHaveLength(0);
  });
});

describe("delete-pipeline", () => {
  it("prints nothing on success", async () => {
    server.respondData({ deletePipelineV2: { deletedPipelineName: "a" } });
    expect(await sluice(["delete-pipeline", "--name", "a"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(server.requests[0]!.body).toEqual({ query: DELETE_PIPELINE_MUTATION, variables: { name: "a" } });
  });

  it("fails with the server's NOT_FOUND for a pipeline that does not exist", async () => {
    server.respond({
      body: {
        errors: [{ message: 'No pipeline is named "a".', extensions: { code: "NOT_FOUND" } }],
        data: null,
      },
    });
    const result = await sluice(["delete-pipeline", "--name", "a"]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toContain('No pipeline is named "a".');
  });
});

describe("import-pipeline", () => {
  it("sends the AWS get-pipeline output as is and prints the pipeline and warnings", async () => {
    const aws = {
      pipeline: { name: "a", roleArn: "arn:aws:iam::1:role/x", stages: [] },
      metadata: { pipelineArn: "arn:aws:codepipeline:eu-west-1:1:a" },
    };
    const importPipeline = {
      pipeline: { name: "a", version: 1 },
      warnings: [{ path: "pipeline.roleArn", message: "kept as AWS metadata; Sluice does not use it" }],
    };
    server.respondData({ importPipelineV2: importPipeline });
    const result = await sluice(["import-pipeline", "--cli-input-json", await file("aws.json", aws)]);
    expect(result).toEqual({ code: 0, stderr: "", stdout: `${JSON.stringify(importPipeline, null, 2)}\n` });
    expect(server.requests[0]!.body).toEqual({
      query: IMPORT_PIPELINE_MUTATION,
      variables: { document: aws },
    });
  });

  it("sends a Sluice document as is (no unwrapping)", async () => {
    server.respondData({ importPipelineV2: { pipeline: { name: "a", version: 1 }, warnings: [] } });
    const result = await sluice(["import-pipeline", "--cli-input-json", "-"], {
      stdin: JSON.stringify(document),
    });
    expect(JSON.parse(result.stdout)).toEqual({ pipeline: { name: "a", version: 1 }, warnings: [] });
    expect(server.requests[0]!.body.variables).toEqual({ document });
  });
});
