import { startFakeServer, unreachableEndpoint, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const emptyList = { pipelines: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } };

describe("requests", () => {
  it("POSTs JSON with the preflight header and no authorization by default", async () => {
    server.respondData(emptyList);
    expect((await run(["list-pipelines", "--endpoint", server.endpoint])).code).toBe(0);
    const [request] = server.requests;
    expect(request!.method).toBe("POST");
    expect(request!.url).toBe("/graphql");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["apollo-require-preflight"]).toBe("true");
    expect(request!.headers["authorization"]).toBeUndefined();
  });

  it("sends --token as a bearer token, before or after the command name", async () => {
    server.respondData(emptyList, emptyList);
    await run(["--token", "t1", "list-pipelines", "--endpoint", server.endpoint]);
    await run(["--endpoint", server.endpoint, "list-pipelines", "--token", "t2"]);
    expect(server.requests.map((r) => r.headers["authorization"])).toEqual(["Bearer t1", "Bearer t2"]);
  });

  it("reads SLUICE_ENDPOINT and SLUICE_TOKEN; options win over the environment", async () => {
    server.respondData(emptyList, emptyList);
    const env = { SLUICE_ENDPOINT: server.endpoint, SLUICE_TOKEN: "from-env" };
    expect((await run(["list-pipelines"], { env })).code).toBe(0);
    expect((await run(["list-pipelines", "--token", "from-option"], { env })).code).toBe(0);
    expect(server.requests.map((r) => r.headers["authorization"])).toEqual([
      "Bearer from-env",
      "Bearer from-option",
    ]);

    const unreachable = await unreachableEndpoint();
    const result = await run(["list-pipelines", "--endpoint", unreachable], { env });
    expect(result.stderr).toContain(unreachable);
  });
});

describe("failures", () => {
  it("says which endpoint it could not reach", async () => {
    const endpoint = await unreachableEndpoint();
    const result = await run(["list-pipelines", "--endpoint", endpoint]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(`^error: could not connect to ${endpoint}: .*ECONNREFUSED.*\\n$`),
    );
  });

  it("reports a non-JSON answer with its HTTP status", async () => {
    server.respond({ status: 502, body: "<html>Bad Gateway</html>" });
    expect(await run(["list-action-types", "--endpoint", server.endpoint])).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: unexpected response from ${server.endpoint} (HTTP 502): not JSON: <html>Bad Gateway</html>\n`,
    });
  });

  it("reports an HTTP error with a JSON body that is not a GraphQL response", async () => {
    server.respond({ status: 401, body: { message: "unauthorized" } });
    const result = await run(["list-action-types", "--endpoint", server.endpoint]);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: unexpected response from ${server.endpoint} (HTTP 401): {"message":"unauthorized"}\n`,
    });
  });

  it("prints an UNAUTHENTICATED error with its code", async () => {
    server.respond({
      body: { errors: [{ message: "a token is required", extensions: { code: "UNAUTHENTICATED" } }] },
    });
    const result = await run(["delete-pipeline", "--name", "a", "--endpoint", server.endpoint]);
    expect(result).toEqual({ code: 1, stdout: "", stderr: "error: a token is required (UNAUTHENTICATED)\n" });
  });

  it.each([
    [["--endpoint", "not a url"], 'error: invalid --endpoint "not a url": not a URL\n'],
    [
      ["--endpoint", "ftp://h/graphql"],
      'error: invalid --endpoint "ftp://h/graphql": expected an http:// or https:// URL\n',
    ],
  ])("rejects a bad endpoint %j with exit 2", async (args, stderr) => {
    expect(await run(["list-pipelines", ...args])).toEqual({ code: 2, stdout: "", stderr });
  });

  it("rejects a bad SLUICE_ENDPOINT naming the variable", async () => {
    const result = await run(["list-pipelines"], { env: { SLUICE_ENDPOINT: "localhost:4000" } });
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: 'error: invalid SLUICE_ENDPOINT "localhost:4000": expected an http:// or https:// URL\n',
    });
  });
});

describe("usage", () => {
  it("prints help for each command on stdout with exit 0", async () => {
    for (const command of [
      "list-pipelines",
      "get-pipeline",
      "create-pipeline",
      "update-pipeline",
      "delete-pipeline",
      "import-pipeline",
      "list-action-types",
      "get-pipeline-versions",
      "start-pipeline-execution",
      "wait-pipeline-execution",
      "get-pipeline-state",
      "get-pipeline-execution",
      "list-pipeline-executions",
      "stop-pipeline-execution",
      "retry-stage-execution",
      "rollback-stage",
      "put-approval-result",
      "disable-stage-transition",
      "enable-stage-transition",
      "logs",
      "list-agents",
      "create-agent-token",
      "list-agent-tokens",
      "revoke-agent-token",
    ]) {
      const result = await run([command, "--help"]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain(`Usage: sluice ${command}`);
      expect(result.stdout).toContain("--endpoint <url>");
      expect(result.stdout).toContain("--token <token>");
    }
  });

  it("lists the commands in the program help", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("get-pipeline-versions");
    expect(result.stdout).toContain("revoke-agent-token");
    expect(result.stdout).toContain("sluice logs --execution <id> --action Build --follow");
    expect(result.stdout).toContain("sluice create-pipeline --cli-input-json file://a.json");
    expect(result.stdout).toContain("sluice start-pipeline-execution --name web --wait --timeout 1800");
  });

  it.each([
    [[], "Usage: sluice"],
    [["bogus"], "error: unknown command 'bogus'"],
    [["list-pipelines", "--bogus"], "error: unknown option '--bogus'"],
    [["list-pipelines", "extra"], "error: too many arguments for 'list-pipelines'"],
    [["create-pipeline"], "error: required option '--cli-input-json <json>' not specified"],
    [["update-pipeline", "--cli-input-json", "{}", "--expected-version", "v2"], "argument 'v2' is invalid"],
  ])("exits 2 for %j", async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(server.requests).toHaveLength(0);
  });
});
