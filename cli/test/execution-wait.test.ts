/**
 * Waiting for an execution (`start-pipeline-execution --wait`, `wait-pipeline-execution`, and
 * `waitForExecution` itself) against a stateful fake API: HTTP reads and a real graphql-ws
 * `executionEvents` subscription (see helpers/execution-server.ts).
 */
import { createClient } from "../src/client";
import { START_EXECUTION_MUTATION } from "../src/commands/start-pipeline-execution";
import {
  EXECUTION_PROGRESS_QUERY,
  formatEvent,
  waitForExecution,
  type WaitContext,
  type WaitOptions,
} from "../src/execution-wait";
import { createSubscriber, webSocketUrl } from "../src/subscription";
import { startExecutionServer, type ExecutionServer } from "./helpers/execution-server";
import { unreachableEndpoint } from "./helpers/graphql-server";
import { run, type RunOptions } from "./helpers/run";

let server: ExecutionServer;
beforeEach(async () => {
  server = await startExecutionServer();
});
afterEach(() => server.close());

const STARTED =
  "started execution e1 of pipeline web; waiting for it to end (Ctrl-C stops waiting, not the execution)";
/** `<time> <text>` as formatEvent writes it, the nth second of the fake clock. */
const at = (n: number, text: string) => `2025-01-01T00:00:${String(n).padStart(2, "0")}.000Z ${text}`;

function addWeb(id = "e1") {
  return server.add(id, "web", { Source: ["Checkout"], Build: ["Compile"] });
}

/** The events of a run through Source and Build, up to (not including) the end of Build. */
function runSourceAndBuild(options: { live?: boolean } = {}) {
  const live = options.live;
  server.emit("e1", "STAGE_STARTED", { stageName: "Source", status: "InProgress", live });
  server.emit("e1", "ACTION_SUCCEEDED", {
    stageName: "Source",
    actionName: "Checkout",
    status: "Succeeded",
    live,
  });
  server.emit("e1", "STAGE_SUCCEEDED", { stageName: "Source", status: "Succeeded", live });
  server.emit("e1", "STAGE_STARTED", { stageName: "Build", status: "InProgress", live });
}

const sourceAndBuildLines = (first: number) => [
  at(first, "stage Source InProgress"),
  at(first + 1, "action Source/Checkout Succeeded"),
  at(first + 2, "stage Source Succeeded"),
  at(first + 3, "stage Build InProgress"),
];

function summary(status: string, statusSummary: string | null, build: string | null, compile: string | null) {
  return {
    pipelineExecutionId: "e1",
    pipelineName: "web",
    status,
    statusSummary,
    stages: [
      {
        name: "Source",
        status: "Succeeded",
        actions: [{ name: "Checkout", status: "Succeeded", summary: null }],
      },
      { name: "Build", status: build, actions: [{ name: "Compile", status: compile, summary: null }] },
    ],
  };
}

const sluice = (args: string[], options: RunOptions = {}) =>
  run([...args, "--endpoint", server.endpoint], { onInterrupt: () => () => {}, ...options });

const lines = (...all: string[]) => all.map((l) => `${l}\n`).join("");

describe("start-pipeline-execution --wait", () => {
  it("follows the execution to Succeeded: exit 0, each event once on stderr, the summary on stdout", async () => {
    addWeb();
    server.emit("e1", "EXECUTION_STARTED", { status: "InProgress" }); // before the subscription: read
    server.onSubscribed = () => {
      runSourceAndBuild();
      server.emit("e1", "ACTION_SUCCEEDED", {
        stageName: "Build",
        actionName: "Compile",
        status: "Succeeded",
      });
      server.emit("e1", "STAGE_SUCCEEDED", { stageName: "Build", status: "Succeeded" });
      server.emit("e1", "EXECUTION_SUCCEEDED", { status: "Succeeded" });
    };
    const started = Date.now();
    const result = await sluice([
      "start-pipeline-execution",
      "--name",
      "web",
      "--variable",
      "Env=prod",
      "--wait",
      "--token",
      "t0k",
    ]);
    expect(Date.now() - started).toBeLessThan(5000); // the end came from the events, not a periodic read
    expect(result).toEqual({
      code: 0,
      stdout: `${JSON.stringify(summary("Succeeded", null, "Succeeded", "Succeeded"), null, 2)}\n`,
      stderr: lines(
        STARTED,
        at(1, "execution InProgress"),
        ...sourceAndBuildLines(2),
        at(6, "action Build/Compile Succeeded"),
        at(7, "stage Build Succeeded"),
        at(8, "execution Succeeded"),
      ),
    });
    expect(server.requests[0]).toEqual({
      query: START_EXECUTION_MUTATION,
      variables: {
        pipelineName: "web",
        variables: [{ name: "Env", value: "prod" }],
        sourceRevisions: null,
        clientRequestToken: null,
      },
    });
    expect(server.requests[1]).toEqual({
      query: EXECUTION_PROGRESS_QUERY,
      variables: { id: "e1", afterSequence: 0 },
    });
    expect(server.requests.slice(1).every((r) => r.query === EXECUTION_PROGRESS_QUERY)).toBe(true);
    expect(server.subscriptions).toEqual([{ executionId: "e1" }]);
    expect(server.connections).toEqual([{ authorization: "Bearer t0k" }]);
    await server.ended[0]; // the client unsubscribed
  });

  it("reads the events the stream skipped, in order, and reports none twice", async () => {
    addWeb();
    server.emit("e1", "EXECUTION_STARTED", { status: "InProgress" });
    server.onSubscribed = () => {
      // 2-5 never reach the subscriber; 6 does, and shows the gap.
      runSourceAndBuild({ live: false });
      server.emit("e1", "ACTION_FAILED", { stageName: "Build", actionName: "Compile", status: "Failed" });
      server.executions.get("e1")!.progress.statusSummary = "Build/Compile failed: exit status 2";
      server.emit("e1", "STAGE_FAILED", { stageName: "Build", status: "Failed", live: false });
      server.emit("e1", "EXECUTION_FAILED", { status: "Failed" });
    };
    const result = await sluice(["start-pipeline-execution", "--name", "web", "--wait"]);
    expect(result).toEqual({
      code: 1,
      stdout: `${JSON.stringify(summary("Failed", "Build/Compile failed: exit status 2", "Failed", "Failed"), null, 2)}\n`,
      stderr: lines(
        STARTED,
        at(1, "execution InProgress"),
        ...sourceAndBuildLines(2),
        at(6, "action Build/Compile Failed"),
        at(7, "stage Build Failed"),
        at(8, "execution Failed"),
        "error: execution e1 of pipeline web ended Failed: Build/Compile failed: exit status 2",
      ),
    });
  });

  it.each([
    ["Stopped", null, "error: execution e1 of pipeline web ended Stopped"],
    ["Superseded", "Replaced by e2", "error: execution e1 of pipeline web ended Superseded: Replaced by e2"],
    ["Cancelled", null, "error: execution e1 of pipeline web ended Cancelled"],
  ])("exits 1 for %s, naming the status and summary", async (status, statusSummary, error) => {
    addWeb();
    server.onSubscribed = () => {
      server.executions.get("e1")!.progress.statusSummary = statusSummary;
      server.emit("e1", `EXECUTION_${status.toUpperCase()}`, { status });
    };
    const result = await sluice(["start-pipeline-execution", "--name", "web", "--wait"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ status, statusSummary });
    expect(result.stderr.split("\n").at(-2)).toBe(error);
  });

  it("gives up at --timeout with exit 1, printing the state so far; the execution goes on", async () => {
    addWeb();
    server.emit("e1", "EXECUTION_STARTED", { status: "InProgress" });
    server.onSubscribed = () => runSourceAndBuild(); // live: applied to the summary
    const started = Date.now();
    const result = await sluice(["start-pipeline-execution", "--name", "web", "--wait", "--timeout", "1"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result).toEqual({
      code: 1,
      stdout: `${JSON.stringify(summary("InProgress", null, "InProgress", null), null, 2)}\n`,
      stderr: lines(
        STARTED,
        at(1, "execution InProgress"),
        ...sourceAndBuildLines(2),
        "error: timed out after 1 s: execution e1 is still InProgress; it goes on running (sluice stop-pipeline-execution --pipeline-execution-id e1 stops it)",
      ),
    });
    await server.ended[0];
  });

  it("stops waiting on Ctrl-C with exit 130, unsubscribing and releasing the handler", async () => {
    addWeb();
    let interrupt: (() => void) | undefined;
    let released = false;
    server.onSubscribed = () => {
      server.emit("e1", "EXECUTION_STARTED", { status: "InProgress" });
      setTimeout(() => interrupt!(), 100);
    };
    const result = await sluice(["start-pipeline-execution", "--name", "web", "--wait"], {
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => void (released = true);
      },
    });
    expect(result.code).toBe(130);
    expect(JSON.parse(result.stdout)).toMatchObject({ pipelineExecutionId: "e1", status: "InProgress" });
    expect(result.stderr).toBe(
      lines(
        STARTED,
        at(1, "execution InProgress"),
        "error: stopped waiting: execution e1 is still InProgress; it goes on running (sluice wait-pipeline-execution --pipeline-execution-id e1 waits again)",
      ),
    );
    expect(released).toBe(true);
    await server.ended[0];
    expect(server.requests.filter((r) => r.query === START_EXECUTION_MUTATION)).toHaveLength(1); // no stop
  });

  it("ends with the close code when the server refuses the subscription", async () => {
    addWeb();
    server.emit("e1", "EXECUTION_STARTED", { status: "InProgress" });
    const result = await sluice(["start-pipeline-execution", "--name", "web", "--wait", "--token", "bad"]);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: lines(
        STARTED,
        at(1, "execution InProgress"),
        `error: ${webSocketUrl(server.endpoint)} closed the subscription: 4403 Forbidden`,
      ),
    });
  });
});

describe("wait-pipeline-execution", () => {
  it("reads an execution that already ended and exits at once, without subscribing", async () => {
    addWeb();
    server.emit("e1", "EXECUTION_STARTED", { status: "InProgress" });
    runSourceAndBuild();
    server.emit("e1", "ACTION_SUCCEEDED", { stageName: "Build", actionName: "Compile", status: "Succeeded" });
    server.emit("e1", "STAGE_SUCCEEDED", { stageName: "Build", status: "Succeeded" });
    server.emit("e1", "EXECUTION_SUCCEEDED", { status: "Succeeded" });
    const result = await sluice(["wait-pipeline-execution", "--pipeline-execution-id", "e1"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(summary("Succeeded", null, "Succeeded", "Succeeded"));
    expect(result.stderr.split("\n")).toHaveLength(9); // 8 events and the last newline
    expect(server.requests).toEqual([
      { query: EXECUTION_PROGRESS_QUERY, variables: { id: "e1", afterSequence: 0 } },
    ]);
    expect(server.connections).toEqual([]);
  });

  it("exits 1 for an execution that does not exist", async () => {
    const result = await sluice(["wait-pipeline-execution", "--pipeline-execution-id", "nope"]);
    expect(result).toEqual({ code: 1, stdout: "", stderr: "error: execution nope not found\n" });
    expect(server.connections).toEqual([]);
  });

  it.each([
    [["wait-pipeline-execution"], "error: required option '--pipeline-execution-id <id>' not specified"],
    [
      ["wait-pipeline-execution", "--pipeline-execution-id", "e1", "--timeout", "0"],
      "error: option '--timeout <seconds>' argument '0' is invalid. expected a positive integer.",
    ],
    [
      ["wait-pipeline-execution", "--pipeline-execution-id", "e1", "--timeout", "2147484"],
      "error: option '--timeout <seconds>' argument '2147484' is invalid. expected at most 2147483 seconds.",
    ],
  ])("exits 2 for %j", async (args, message) => {
    const result = await sluice(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(server.requests).toEqual([]);
  });
});

describe("waitForExecution", () => {
  function context(endpoint = server.endpoint) {
    const notices: string[] = [];
    const ctx: WaitContext = {
      request: createClient({ endpoint: server.endpoint }),
      subscribe: createSubscriber({ endpoint }),
      notice: (message) => void notices.push(message),
      onInterrupt: () => () => {},
    };
    return { ctx, notices };
  }
  const wait = (ctx: WaitContext, options: Partial<WaitOptions> = {}) =>
    waitForExecution(ctx, { executionId: "e1", pollIntervalMs: 60_000, reconnectDelayMs: 20, ...options });
  const eventNotices = (notices: string[]) => notices.filter((n) => n.startsWith("2025-"));

  it("re-reads and subscribes again when the stream drops, missing nothing", async () => {
    addWeb();
    server.emit("e1", "EXECUTION_STARTED", { status: "InProgress" });
    server.onSubscribed = (count) => {
      if (count === 1) {
        server.emit("e1", "STAGE_STARTED", { stageName: "Source", status: "InProgress" });
        setTimeout(() => {
          server.dropConnections();
          // While no one listens.
          server.emit("e1", "ACTION_SUCCEEDED", {
            stageName: "Source",
            actionName: "Checkout",
            status: "Succeeded",
          });
        }, 50);
      } else {
        server.emit("e1", "STAGE_SUCCEEDED", { stageName: "Source", status: "Succeeded" });
        server.emit("e1", "EXECUTION_STOPPED", { status: "Stopped" });
      }
    };
    const { ctx, notices } = context();
    const result = await wait(ctx);
    expect(result.outcome).toBe("ended");
    expect(result.execution).toMatchObject({ id: "e1", status: "Stopped", sequence: 5 });
    expect(eventNotices(notices)).toEqual([
      at(1, "execution InProgress"),
      at(2, "stage Source InProgress"),
      at(3, "action Source/Checkout Succeeded"),
      at(4, "stage Source Succeeded"),
      at(5, "execution Stopped"),
    ]);
    const url = webSocketUrl(server.endpoint);
    expect(notices.filter((n) => !n.startsWith("2025-"))).toEqual([
      `lost the events of execution e1 (lost the connection to ${url}: the connection was lost); reconnecting`,
      "reconnected to the events of execution e1",
    ]);
    expect(server.subscriptions).toHaveLength(2);
  });

  it("reads, once subscribed, what happened between its first read and the subscription", async () => {
    addWeb();
    const { ctx, notices } = context();
    const subscribe = ctx.subscribe;
    ctx.subscribe = (request) => {
      // After the first read, before anyone listens: only a read can see these.
      server.emit("e1", "EXECUTION_STARTED", { status: "InProgress" });
      server.emit("e1", "EXECUTION_SUCCEEDED", { status: "Succeeded" });
      return subscribe(request);
    };
    const result = await wait(ctx, { timeoutMs: 5000 }); // no periodic read within the test
    expect(result).toMatchObject({ outcome: "ended", execution: { status: "Succeeded", sequence: 2 } });
    expect(eventNotices(notices)).toEqual([at(1, "execution InProgress"), at(2, "execution Succeeded")]);
  });

  it("finds the end with a periodic read when the stream missed the last event", async () => {
    addWeb();
    server.onSubscribed = () =>
      server.emit("e1", "EXECUTION_SUCCEEDED", { status: "Succeeded", live: false });
    const { ctx, notices } = context();
    const started = Date.now();
    const result = await wait(ctx, { pollIntervalMs: 100 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ outcome: "ended", execution: { status: "Succeeded" } });
    expect(eventNotices(notices)).toEqual([at(1, "execution Succeeded")]);
  });

  it("keeps going when a read after the first fails with a 5xx, saying so once", async () => {
    addWeb();
    server.onSubscribed = () => {
      server.failReads = 2;
      server.emit("e1", "EXECUTION_STARTED", { status: "InProgress", live: false });
      server.emit("e1", "STAGE_STARTED", { stageName: "Source", status: "InProgress" }); // a gap: read
      setTimeout(() => server.emit("e1", "EXECUTION_SUCCEEDED", { status: "Succeeded", live: false }), 300);
    };
    const { ctx, notices } = context();
    const result = await wait(ctx, { pollIntervalMs: 100 });
    expect(result.outcome).toBe("ended");
    expect(notices.filter((n) => n.startsWith("could not read"))).toEqual([
      `could not read execution e1 (unexpected response from ${server.endpoint} (HTTP 503): {"message":"unavailable"}); trying again`,
    ]);
    expect(eventNotices(notices)).toEqual([
      at(1, "execution InProgress"),
      at(2, "stage Source InProgress"),
      at(3, "execution Succeeded"),
    ]);
  });

  it("still ends when the event stream cannot be reached at all, by reading", async () => {
    addWeb();
    const { ctx, notices } = context(await unreachableEndpoint());
    setTimeout(() => server.emit("e1", "EXECUTION_SUCCEEDED", { status: "Succeeded" }), 300);
    const result = await wait(ctx, { pollIntervalMs: 50 });
    expect(result.outcome).toBe("ended");
    const lost = notices.filter((n) => n.startsWith("lost the events"));
    expect(lost).toHaveLength(1); // said once, however many attempts
    expect(lost[0]).toMatch(
      /^lost the events of execution e1 \(could not connect to ws:\/\/127\.0\.0\.1:\d+\/graphql: .*ECONNREFUSED.*\); reconnecting$/,
    );
  });

  it("rejects with the first read's error", async () => {
    const { ctx } = context();
    await expect(wait(ctx)).rejects.toThrow("execution e1 not found");
  });
});

describe("formatEvent", () => {
  const event = (type: string, detail: Record<string, string | null> = {}) => ({
    type,
    sequence: 1,
    stageName: null,
    actionName: null,
    status: null,
    at: "2025-01-01T00:00:00.000Z",
    ...detail,
  });

  it.each([
    [
      event("EXECUTION_WAITING", { stageName: "Prod", status: "InProgress" }),
      "execution waiting to enter stage Prod",
    ],
    [
      event("APPROVAL_NEEDED", { stageName: "Prod", actionName: "Ok", status: "InProgress" }),
      "action Prod/Ok waits for approval: sluice put-approval-result --pipeline-execution-id e1 --stage-name Prod --action-name Ok --approve",
    ],
    [
      event("APPROVAL_NEEDED", { stageName: "Go live", actionName: "Sam's OK", status: "InProgress" }),
      `action Go live/Sam's OK waits for approval: sluice put-approval-result --pipeline-execution-id e1 --stage-name 'Go live' --action-name 'Sam'\\''s OK' --approve`,
    ],
    [
      event("APPROVAL_APPROVED", { stageName: "Prod", actionName: "Ok", status: "Succeeded" }),
      "action Prod/Ok approved",
    ],
    [
      event("APPROVAL_REJECTED", { stageName: "Prod", actionName: "Ok", status: "Failed" }),
      "action Prod/Ok rejected",
    ],
    [
      event("APPROVAL_TIMED_OUT", { stageName: "Prod", actionName: "Ok", status: "Failed" }),
      "action Prod/Ok approval timed out",
    ],
    [
      event("ACTION_RETRY_SCHEDULED", { stageName: "Build", actionName: "Make", status: "InProgress" }),
      "action Build/Make failed; retry scheduled",
    ],
    [
      event("ACTION_ABANDONED", { stageName: "Build", actionName: "Make", status: "Abandoned" }),
      "action Build/Make Abandoned",
    ],
    [event("STAGE_RESUMED", { stageName: "Build", status: "InProgress" }), "stage Build InProgress"],
    [event("EXECUTION_RESUMED", { status: "InProgress" }), "execution InProgress"],
  ])("%j", (value, text) => {
    expect(formatEvent(value, "e1")).toBe(`2025-01-01T00:00:00.000Z ${text}`);
  });
});
