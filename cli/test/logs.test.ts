import { ACTION_LOG_QUERY, EXECUTION_ACTIONS_QUERY, LOG_PAGE_SIZE, type LogLine } from "../src/commands/logs";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);

interface ActionFixture {
  name: string;
  id: string | null;
  attempt: number;
  attempts: { id: string; attempt: number }[];
}

function action(name: string, ...attemptIds: string[]): ActionFixture {
  return {
    name,
    id: attemptIds.at(-1) ?? null,
    attempt: Math.max(1, attemptIds.length),
    attempts: attemptIds.map((id, i) => ({ id, attempt: i + 1 })),
  };
}

function execution(stages: Record<string, ActionFixture[]>, id = "e1") {
  return {
    pipelineExecution: { id, stages: Object.entries(stages).map(([name, actions]) => ({ name, actions })) },
  };
}

const standard = execution({
  Source: [action("Checkout", "a-src")],
  Build: [action("Compile", "a-build-1", "a-build-2"), action("Lint")],
});

function line(sequence: number, stream: LogLine["stream"] = "stdout"): LogLine {
  return { sequence, at: `2025-01-01T00:00:0${sequence}.000Z`, stream, text: `line ${sequence}` };
}

function page(sequences: number[], hasNextPage: boolean, complete = !hasNextPage, endCursor?: number) {
  return {
    actionLog: {
      nodes: sequences.map((s) => line(s, s % 3 === 0 ? "stderr" : s % 3 === 1 ? "stdout" : "system")),
      hasNextPage,
      endCursor: endCursor ?? sequences.at(-1) ?? 0,
      complete,
    },
  };
}

describe("logs", () => {
  it("finds the current attempt and prints every page of its log in order", async () => {
    server.respondData(standard, page([1, 2], true), page([3, 4], true), page([5], false));
    const result = await sluice("logs", "--execution", "e1", "--action", "Compile");
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: "line 1\nline 2\nline 3\nline 4\nline 5\n",
    });
    expect(server.requests.map((r) => r.body)).toEqual([
      { query: EXECUTION_ACTIONS_QUERY, variables: { id: "e1" } },
      { query: ACTION_LOG_QUERY, variables: { id: "a-build-2", after: 0, first: LOG_PAGE_SIZE } },
      { query: ACTION_LOG_QUERY, variables: { id: "a-build-2", after: 2, first: LOG_PAGE_SIZE } },
      { query: ACTION_LOG_QUERY, variables: { id: "a-build-2", after: 4, first: LOG_PAGE_SIZE } },
    ]);
  });

  it("pages with the server's cursor when it gives one, the line number alongside", async () => {
    const withCursor = (p: ReturnType<typeof page>, cursor: string) => ({
      actionLog: { ...p.actionLog, cursor },
    });
    server.respondData(
      standard,
      withCursor(page([1, 2], true), "c2"),
      withCursor(page([3, 4], true), "c4"),
      withCursor(page([5], false), "c5"),
    );
    const result = await sluice("logs", "--execution", "e1", "--action", "Compile");
    expect(result).toMatchObject({ code: 0, stdout: "line 1\nline 2\nline 3\nline 4\nline 5\n" });
    expect(server.requests.slice(1).map((r) => r.body.variables)).toEqual([
      { id: "a-build-2", after: 0, first: LOG_PAGE_SIZE },
      { id: "a-build-2", after: 2, afterCursor: "c2", first: LOG_PAGE_SIZE },
      { id: "a-build-2", after: 4, afterCursor: "c4", first: LOG_PAGE_SIZE },
    ]);
  });

  it("prefixes the ISO time with --timestamps", async () => {
    server.respondData(standard, page([1, 3], false));
    const result = await sluice("logs", "--execution", "e1", "--action", "Checkout", "--timestamps");
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: "2025-01-01T00:00:01.000Z line 1\n2025-01-01T00:00:03.000Z line 3\n",
    });
    expect(server.requests[1]!.body.variables).toEqual({ id: "a-src", after: 0, first: LOG_PAGE_SIZE });
  });

  it("prints one JSON object per line with --output json", async () => {
    server.respondData(standard, page([1], true), page([2, 3], false));
    const result = await sluice("logs", "--execution", "e1", "--action", "Compile", "--output", "json");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      [
        '{"sequence":1,"at":"2025-01-01T00:00:01.000Z","stream":"stdout","text":"line 1"}',
        '{"sequence":2,"at":"2025-01-01T00:00:02.000Z","stream":"system","text":"line 2"}',
        '{"sequence":3,"at":"2025-01-01T00:00:03.000Z","stream":"stderr","text":"line 3"}',
        "",
      ].join("\n"),
    );
  });

  it("prints nothing for an empty log", async () => {
    server.respondData(standard, page([], false));
    expect(await sluice("logs", "--execution", "e1", "--action", "Compile")).toEqual({
      code: 0,
      stdout: "",
      stderr: "",
    });
  });

  it("reads an earlier attempt with --attempt", async () => {
    server.respondData(standard, page([1], false));
    const result = await sluice("logs", "--execution", "e1", "--action", "Compile", "--attempt", "1");
    expect(result).toEqual({ code: 0, stderr: "", stdout: "line 1\n" });
    expect(server.requests[1]!.body.variables).toEqual({ id: "a-build-1", after: 0, first: LOG_PAGE_SIZE });
  });

  it("lists the attempts when --attempt names none of them", async () => {
    server.respondData(standard);
    const result = await sluice("logs", "--execution", "e1", "--action", "Compile", "--attempt", "3");
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: action Build/Compile has no attempt 3; its attempts: 1, 2\n",
    });
    expect(server.requests).toHaveLength(1);
  });

  it("says when the action has not started yet", async () => {
    server.respondData(standard, standard);
    expect(await sluice("logs", "--execution", "e1", "--action", "Lint")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: action Build/Lint has not started yet\n",
    });
    expect(await sluice("logs", "--execution", "e1", "--action", "Lint", "--attempt", "1")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: action Build/Lint has no attempt 1; it has not started yet\n",
    });
    expect(server.requests.map((r) => r.body.query)).toEqual([
      EXECUTION_ACTIONS_QUERY,
      EXECUTION_ACTIONS_QUERY,
    ]);
  });

  it("names the earlier attempts when the current one has not started", async () => {
    const waiting = { name: "Deploy", id: null, attempt: 2, attempts: [{ id: "a-d-1", attempt: 1 }] };
    server.respondData(execution({ Prod: [waiting] }));
    const result = await sluice("logs", "--execution", "e1", "--action", "Deploy");
    expect(result.stderr).toBe(
      "error: action Prod/Deploy has not started yet (earlier attempts: 1; choose one with --attempt)\n",
    );
    expect(result.code).toBe(1);
  });

  it("lists the actions that exist when the action does not", async () => {
    server.respondData(standard, standard);
    expect(await sluice("logs", "--execution", "e1", "--action", "Deploy")).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "error: execution e1 has no action Deploy; its actions: Source/Checkout, Build/Compile, Build/Lint\n",
    });
    const inStage = await sluice("logs", "--execution", "e1", "--action", "Checkout", "--stage", "Build");
    expect(inStage.stderr).toBe(
      "error: execution e1 has no action Checkout in stage Build; its actions: Source/Checkout, Build/Compile, Build/Lint\n",
    );
    expect(inStage.code).toBe(1);
  });

  it("says when the execution has no actions at all", async () => {
    server.respondData(execution({}));
    const result = await sluice("logs", "--execution", "e1", "--action", "Build");
    expect(result.stderr).toBe("error: execution e1 has no action Build; it has no actions\n");
  });

  it("asks for --stage when two stages have an action of that name, and uses it", async () => {
    const twice = execution({ Test: [action("Run", "a-test")], Deploy: [action("Run", "a-deploy")] });
    server.respondData(twice, twice, page([1], false));
    expect(await sluice("logs", "--execution", "e1", "--action", "Run")).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "error: action Run is in more than one stage of execution e1 (Test, Deploy): choose one with --stage\n",
    });
    const result = await sluice("logs", "--execution", "e1", "--action", "Run", "--stage", "Deploy");
    expect(result).toEqual({ code: 0, stderr: "", stdout: "line 1\n" });
    expect(server.requests[2]!.body.variables).toEqual({ id: "a-deploy", after: 0, first: LOG_PAGE_SIZE });
  });

  it("reports an execution that does not exist", async () => {
    server.respondData({ pipelineExecution: null });
    expect(await sluice("logs", "--execution", "nope", "--action", "Compile")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: execution nope not found\n",
    });
  });

  it("prints a server error about the log with its code, after the lines already read", async () => {
    server.respondData(standard, page([1], true));
    server.respond({
      body: {
        errors: [{ message: "No action execution a-build-2 exists.", extensions: { code: "NOT_FOUND" } }],
        data: null,
      },
    });
    expect(await sluice("logs", "--execution", "e1", "--action", "Compile")).toEqual({
      code: 1,
      stdout: "line 1\n",
      stderr: "error: No action execution a-build-2 exists. (NOT_FOUND)\n",
    });
  });

  it("fails instead of looping when the cursor does not advance", async () => {
    server.respondData(standard, page([1, 2], true), page([], true, false, 2));
    const result = await sluice("logs", "--execution", "e1", "--action", "Compile");
    expect(result).toEqual({
      code: 1,
      stdout: "line 1\nline 2\n",
      stderr: "error: cannot follow pages: hasNextPage is true but endCursor 2 does not come after 2\n",
    });
  });

  it("with --follow, stops at a complete log without opening a WebSocket", async () => {
    // The fake server cannot upgrade to a WebSocket: trying to subscribe would fail with exit 1.
    server.respondData(standard, page([1], true), page([2], false, true));
    const result = await sluice("logs", "--execution", "e1", "--action", "Compile", "--follow");
    expect(result).toEqual({ code: 0, stderr: "", stdout: "line 1\nline 2\n" });
    expect(server.requests).toHaveLength(3);
  });

  it.each([
    [["--action", "a"], "error: required option '--execution <id>' not specified"],
    [["--execution", "e1"], "error: required option '--action <name>' not specified"],
    [["--execution", "e1", "--action", "a", "--attempt", "0"], "argument '0' is invalid"],
    [["--execution", "e1", "--action", "a", "--attempt", "two"], "argument 'two' is invalid"],
    [
      ["--execution", "e1", "--action", "a", "--output", "yaml"],
      "logs prints lines: --output text (the default) or json, not yaml",
    ],
    [["--execution", "e1", "--action", "a", "--follow", "yes"], "error: too many arguments for 'logs'"],
  ])("exits 2 for %j without a request", async (args, message) => {
    const result = await sluice("logs", ...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(server.requests).toHaveLength(0);
  });
});
