import { formatTable } from "../src/format/table";
import { formatText } from "../src/format/text";
import { LIST_PIPELINES_QUERY } from "../src/commands/list-pipelines";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

describe("--output text (the AWS CLI's rules)", () => {
  it("prints a dict's scalars on one line in key order, then its lists under upper-cased keys", () => {
    const value = {
      pipelineExecutionSummaries: [
        { pipelineExecutionId: "e2", status: "Failed", trigger: { triggerType: "Manual" } },
        { pipelineExecutionId: "e1", status: "Succeeded", statusSummary: "ok" },
      ],
      NextToken: "abc",
    };
    expect(formatText(value)).toBe(
      [
        "abc",
        "PIPELINEEXECUTIONSUMMARIES\te2\tFailed\tNone",
        "TRIGGER\tManual",
        "PIPELINEEXECUTIONSUMMARIES\te1\tSucceeded\tok",
        "",
      ].join("\n"),
    );
  });

  it("prints a list of scalars under a key one per line, and a bare one on a single line", () => {
    expect(formatText({ labels: ["linux", "x64"] })).toBe("LABELS\tlinux\nLABELS\tx64\n");
    expect(formatText(["a", "b", 3, true, null])).toBe("a\tb\t3\tTrue\tNone\n");
    expect(formatText("e1")).toBe("e1\n");
    expect(formatText([[1, 2], "x"])).toBe("x\n1\t2\n");
    expect(formatText([])).toBe("");
  });
});

describe("--output table", () => {
  it("boxes the result under the operation's name, with a nested section per list", () => {
    const table = formatTable(
      {
        pipelines: [
          { name: "a", version: 1 },
          { name: "bb", version: 12 },
        ],
      },
      "ListPipelines",
    );
    const lines = table.trimEnd().split("\n");
    expect(new Set(lines.map((l) => l.length)).size).toBe(1); // every line as wide as the box
    expect(lines[0]).toMatch(/^-+$/);
    expect(lines[1]).toMatch(/^\|\s+ListPipelines\s+\|$/);
    expect(lines[3]).toMatch(/^\|\|\s+pipelines\s+\|\|$/);
    expect(lines[5]).toMatch(/^\|\|\s+name\s+\|\s+version\s+\|\|$/);
    expect(lines[7]).toMatch(/^\|\|\s+a\s+\|\s+1\s+\|\|$/);
    expect(lines[8]).toMatch(/^\|\|\s+bb\s+\|\s+12\s+\|\|$/);
  });

  it("prints a lone scalar as a key | value row, and nothing for an empty result", () => {
    const lines = formatTable({ pipelineExecutionId: "e1" }, "StartPipelineExecution").trimEnd().split("\n");
    expect(lines[3]).toMatch(/^\|\s+pipelineExecutionId\s+\|\s+e1\s+\|$/);
    expect(formatTable({}, "X")).toBe("");
    expect(formatTable([], "X")).toBe("");
  });
});

describe("global output options on a command", () => {
  let server: FakeGraphQLServer;
  beforeEach(async () => {
    server = await startFakeServer();
  });
  afterEach(() => server.close());
  const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);
  const pipelines = {
    pipelines: {
      nodes: [
        {
          name: "a",
          version: 1,
          executionMode: "QUEUED",
          createdAt: "2025-01-01T00:00:00Z",
          updatedAt: "2025-01-02T00:00:00Z",
        },
        {
          name: "b",
          version: 3,
          executionMode: "QUEUED",
          createdAt: "2025-01-03T00:00:00Z",
          updatedAt: "2025-01-04T00:00:00Z",
        },
      ],
      pageInfo: { hasNextPage: false, endCursor: "c" },
    },
  };

  it("--query picks out of the result before --output formats it", async () => {
    server.respondData(pipelines);
    const result = await sluice("list-pipelines", "--query", "pipelines[].name", "--output", "text");
    expect(result).toEqual({ code: 0, stderr: "", stdout: "a\tb\n" });
  });

  it("--query with json output, given before the command name", async () => {
    server.respondData(pipelines);
    const result = await run([
      "--query",
      "pipelines[?version > `1`].name | [0]",
      "--endpoint",
      server.endpoint,
      "list-pipelines",
    ]);
    expect(result).toEqual({ code: 0, stderr: "", stdout: '"b"\n' });
  });

  it("--output yaml", async () => {
    server.respondData(pipelines);
    const result = await sluice(
      "list-pipelines",
      "--output",
      "yaml",
      "--query",
      "pipelines[0].{name: name, version: version}",
    );
    expect(result).toEqual({ code: 0, stderr: "", stdout: "name: a\nversion: 1\n" });
  });

  it("--output table is titled with the operation's name", async () => {
    server.respondData(pipelines);
    const result = await sluice("list-pipelines", "--output", "table");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[1]).toMatch(/^\|\s+ListPipelines\s+\|$/);
  });

  it("a malformed --query exits 2 before any request", async () => {
    const result = await sluice("list-pipelines", "--query", "pipelines[");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: invalid --query "pipelines["');
    expect(server.requests).toHaveLength(0);
  });

  it("an unknown --output exits 2", async () => {
    const result = await sluice("list-pipelines", "--output", "xml");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("argument 'xml' is invalid");
    expect(server.requests).toHaveLength(0);
  });

  it("--no-cli-pager is accepted", async () => {
    server.respondData(pipelines);
    const result = await sluice("list-pipelines", "--no-cli-pager", "--query", "length(pipelines)");
    expect(result).toEqual({ code: 0, stderr: "", stdout: "2\n" });
    expect(server.requests[0]!.body.query).toBe(LIST_PIPELINES_QUERY);
  });

  it("--version prints the CLI's, node's and the platform's versions", async () => {
    const result = await run(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^sluice\/0\.\d+\.\d+ node\/v\d+\.\d+\.\d+ \w+\/\S+\n$/);
  });
});
