import { decodeToken, encodeToken } from "../src/pagination";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);
const node = (name: string) => ({
  name,
  version: 1,
  executionMode: "QUEUED",
  createdAt: "t0",
  updatedAt: "t1",
});
const page = (names: string[], endCursor: string | null, hasNextPage: boolean) => ({
  pipelines: { nodes: names.map(node), pageInfo: { hasNextPage, endCursor } },
});
const names = (stdout: string) =>
  (JSON.parse(stdout) as { pipelines: { name: string }[] }).pipelines.map((p) => p.name);
const variables = () => server.requests.map((r) => r.body.variables);

describe("pagination options (list commands)", () => {
  it("--page-size sets the size of every request, and every page is read", async () => {
    server.respondData(page(["a", "b"], "c1", true), page(["c"], "c2", false));
    const result = await sluice("list-pipelines", "--page-size", "2");
    expect(names(result.stdout)).toEqual(["a", "b", "c"]);
    expect(JSON.parse(result.stdout)).not.toHaveProperty("NextToken");
    expect(variables()).toEqual([
      { first: 2, after: null },
      { first: 2, after: "c1" },
    ]);
  });

  it("--max-items stopping inside a page prints a NextToken that resumes inside that page", async () => {
    server.respondData(page(["a", "b", "c"], "c1", true));
    const first = await sluice("list-pipelines", "--page-size", "3", "--max-items", "2");
    const output = JSON.parse(first.stdout) as { NextToken: string };
    expect(names(first.stdout)).toEqual(["a", "b"]);
    expect(decodeToken(output.NextToken)).toEqual({ after: null, skip: 2 });

    server.respondData(page(["a", "b", "c"], "c1", true), page(["d"], "c2", false));
    const rest = await sluice("list-pipelines", "--page-size", "3", "--starting-token", output.NextToken);
    expect(names(rest.stdout)).toEqual(["c", "d"]);
    expect(variables().slice(1)).toEqual([
      { first: 3, after: null },
      { first: 3, after: "c1" },
    ]);
  });

  it("prints no NextToken when --max-items ends exactly with the last item", async () => {
    server.respondData(page(["a", "b"], "c1", false));
    const result = await sluice("list-pipelines", "--max-items", "2");
    expect(JSON.parse(result.stdout)).not.toHaveProperty("NextToken");
  });

  it("--no-paginate makes one request and prints the NextToken of the next page", async () => {
    server.respondData(page(["a", "b"], "c1", true));
    const result = await sluice("list-pipelines", "--no-paginate", "--page-size", "2");
    expect(names(result.stdout)).toEqual(["a", "b"]);
    expect(decodeToken(JSON.parse(result.stdout).NextToken)).toEqual({ after: "c1", skip: 0 });
    expect(server.requests).toHaveLength(1);
  });

  it("--query sees the NextToken, as in the AWS CLI", async () => {
    server.respondData(page(["a", "b"], "c1", true));
    const result = await sluice(
      "list-pipelines",
      "--max-items",
      "1",
      "--query",
      "NextToken",
      "--output",
      "text",
    );
    expect(decodeToken(result.stdout.trim())).toEqual({ after: null, skip: 1 });
  });

  it.each([
    "nope",
    encodeToken({ after: null, skip: 0 }).slice(3),
    Buffer.from('{"after":1}').toString("base64url"),
  ])("an invalid --starting-token %s exits 2 before any request", async (token) => {
    const result = await sluice("list-pipelines", "--starting-token", token);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("invalid --starting-token");
    expect(server.requests).toHaveLength(0);
  });

  it("--page-size 0 exits 2", async () => {
    const result = await sluice("list-pipeline-executions", "--name", "w", "--page-size", "0");
    expect(result.code).toBe(2);
    expect(server.requests).toHaveLength(0);
  });
});
