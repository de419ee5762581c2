/**
 * `logs --follow` against a real graphql-ws server (ws + graphql-ws's useServer, a tiny schema whose
 * subscription yields lines the test scripts); the HTTP queries go to an injected fetch.
 */
import { buildSchema, GraphQLError, type GraphQLFieldConfig } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import {
  ACTION_LOG_QUERY,
  ACTION_LOG_SUBSCRIPTION,
  EXECUTION_ACTIONS_QUERY,
  type LogLine,
} from "../src/commands/logs";
import { webSocketUrl } from "../src/subscription";
import { unreachableEndpoint } from "./helpers/graphql-server";
import { run, type RunOptions } from "./helpers/run";
import { pushable } from "./helpers/pushable";

const schema = buildSchema(`
  type LogLine { sequence: Int! at: String! stream: String! text: String! }
  type Query { ok: Boolean }
  type Subscription { actionLog(actionExecutionId: ID!, after: Int, afterCursor: String): LogLine! }
`);

/** What the subscription does for one subscribe: yields the lines, then completes or stays open. */
interface Script {
  lines: LogLine[];
  /** Keep the subscription open after the lines until the client unsubscribes. */
  stayOpen?: boolean;
  /** Throw this instead of starting the stream. */
  fail?: GraphQLError;
}

interface WsFixture {
  endpoint: string;
  /** The query text of each subscribe message, in order. */
  queries: string[];
  /** The variables of each subscribe, in order. */
  subscriptions: Record<string, unknown>[];
  /** connectionParams of each connection. */
  connections: unknown[];
  /** Resolves each time a subscription's source ends (completed or unsubscribed). */
  ended: Promise<void>[];
  script: Script;
  close(): Promise<void>;
}

let ws: WsFixture;
beforeEach(async () => {
  ws = await startWsServer();
});
afterEach(() => ws.close());

async function startWsServer(): Promise<WsFixture> {
  const fixture = {
    queries: [],
    subscriptions: [],
    connections: [],
    ended: [],
    script: { lines: [] },
  } as unknown as WsFixture;
  const field = schema.getSubscriptionType()!.getFields()["actionLog"] as unknown as GraphQLFieldConfig<
    unknown,
    unknown
  >;
  field.resolve = (line) => line;
  field.subscribe = (_root, args: Record<string, unknown>) => {
    fixture.subscriptions.push(args);
    const { lines, stayOpen, fail } = fixture.script;
    if (fail) throw fail;
    const feed = pushable<LogLine>({ initial: lines, endWhenDrained: !stayOpen });
    fixture.ended.push(feed.ended);
    const iterator = feed.iterator;
    return iterator;
  };

  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: "/graphql" });
  const cleanup = useServer(
    {
      schema,
      onConnect: (ctx) => {
        fixture.connections.push(ctx.connectionParams);
        return ctx.connectionParams?.["authorization"] !== "Bearer bad";
      },
      onSubscribe: (_ctx, _id, payload) => void fixture.queries.push(payload.query),
    },
    wss,
  );
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  fixture.endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
  fixture.close = async () => {
    await cleanup.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return fixture;
}

function line(sequence: number, stream: LogLine["stream"] = "stdout"): LogLine {
  return { sequence, at: `2025-01-01T00:00:0${sequence}.000Z`, stream, text: `line ${sequence}` };
}

const execution = {
  pipelineExecution: {
    id: "e1",
    stages: [
      {
        name: "Build",
        actions: [{ name: "Compile", id: "a1", attempt: 1, attempts: [{ id: "a1", attempt: 1 }] }],
      },
    ],
  },
};

/** An injected fetch answering the execution query, then the given actionLog pages; records the bodies. */
function fakeFetch(
  ...pages: { nodes: LogLine[]; hasNextPage: boolean; endCursor: number; complete: boolean }[]
) {
  const bodies: { query: string; variables: Record<string, unknown> }[] = [];
  const responses: unknown[] = [execution, ...pages.map((p) => ({ actionLog: p }))];
  const fetch = (async (_url: string | URL | Request, init?: RequestInit) => {
    bodies.push(JSON.parse(String(init?.body)) as (typeof bodies)[number]);
    const data = responses.shift();
    if (data === undefined) return new Response("no canned response left", { status: 500 });
    return new Response(JSON.stringify({ data }), { headers: { "content-type": "application/json" } });
  }) as typeof globalThis.fetch;
  return { fetch, bodies };
}

const openLog = { nodes: [line(1), line(2, "stderr")], hasNextPage: false, endCursor: 2, complete: false };

function follow(fetch: typeof globalThis.fetch, extra: string[] = [], options: RunOptions = {}) {
  return run(
    ["logs", "--execution", "e1", "--action", "Compile", "--follow", "--endpoint", ws.endpoint, ...extra],
    { fetch, onInterrupt: () => () => {}, ...options },
  );
}

describe("logs --follow", () => {
  it("prints the stored lines, then the subscribed ones until the server completes", async () => {
    ws.script = { lines: [line(3, "system"), line(4)] };
    const { fetch, bodies } = fakeFetch(openLog);
    const result = await follow(fetch, ["--token", "t0k"]);
    expect(result).toEqual({ code: 0, stderr: "", stdout: "line 1\nline 2\nline 3\nline 4\n" });
    expect(bodies.map((b) => b.query)).toEqual([EXECUTION_ACTIONS_QUERY, ACTION_LOG_QUERY]);
    expect(ws.queries).toEqual([ACTION_LOG_SUBSCRIPTION]);
    expect(ws.subscriptions).toEqual([{ actionExecutionId: "a1", after: 2 }]);
    expect(ws.connections).toEqual([{ authorization: "Bearer t0k" }]);
    await ws.ended[0];
  });

  it("follows from the last page's cursor when the server gives one", async () => {
    ws.script = { lines: [line(3)] };
    const { fetch, bodies } = fakeFetch({ ...openLog, cursor: "c2" } as typeof openLog);
    const result = await follow(fetch);
    expect(result).toEqual({ code: 0, stderr: "", stdout: "line 1\nline 2\nline 3\n" });
    expect(bodies[1]!.variables).toMatchObject({ id: "a1", after: 0 });
    expect(ws.subscriptions).toEqual([{ actionExecutionId: "a1", after: 2, afterCursor: "c2" }]);
    await ws.ended[0];
  });

  it("prints NDJSON with --output json and skips lines it already printed", async () => {
    ws.script = { lines: [line(2, "stderr"), line(3)] };
    const { fetch } = fakeFetch(openLog);
    const result = await follow(fetch, ["--output", "json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")).toEqual([
      '{"sequence":1,"at":"2025-01-01T00:00:01.000Z","stream":"stdout","text":"line 1"}',
      '{"sequence":2,"at":"2025-01-01T00:00:02.000Z","stream":"stderr","text":"line 2"}',
      '{"sequence":3,"at":"2025-01-01T00:00:03.000Z","stream":"stdout","text":"line 3"}',
      "",
    ]);
    expect(ws.connections).toEqual([undefined]); // no token: no connectionParams
  });

  it("ends cleanly with exit 0 on an interrupt, unsubscribing and releasing the handler", async () => {
    let interrupt: (() => void) | undefined;
    let released = false;
    ws.script = { lines: [line(3)], stayOpen: true };
    const { fetch } = fakeFetch(openLog);
    const result = await follow(fetch, ["--timestamps"], {
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => void (released = true);
      },
      onStdout: (stdout) => {
        if (stdout.endsWith("line 3\n")) interrupt!();
      },
    });
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout:
        "2025-01-01T00:00:01.000Z line 1\n2025-01-01T00:00:02.000Z line 2\n2025-01-01T00:00:03.000Z line 3\n",
    });
    expect(released).toBe(true);
    await ws.ended[0]; // the server saw the unsubscribe: its source stream was closed
  });

  it("listens to SIGINT by default, and stops listening afterwards", async () => {
    ws.script = { lines: [line(3)], stayOpen: true };
    const { fetch } = fakeFetch(openLog);
    const before = process.listenerCount("SIGINT");
    const result = await run(
      ["logs", "--execution", "e1", "--action", "Compile", "--follow", "--endpoint", ws.endpoint],
      {
        fetch,
        onStdout: (stdout) => {
          if (stdout.endsWith("line 3\n")) {
            expect(process.listenerCount("SIGINT")).toBe(before + 1);
            process.emit("SIGINT");
          }
        },
      },
    );
    expect(result).toEqual({ code: 0, stderr: "", stdout: "line 1\nline 2\nline 3\n" });
    expect(process.listenerCount("SIGINT")).toBe(before);
    await ws.ended[0];
  });

  it("prints a GraphQL error of the subscription with its code", async () => {
    ws.script = {
      lines: [],
      fail: new GraphQLError("No action execution a1 exists.", { extensions: { code: "NOT_FOUND" } }),
    };
    const { fetch } = fakeFetch(openLog);
    expect(await follow(fetch)).toEqual({
      code: 1,
      stdout: "line 1\nline 2\n",
      stderr: "error: No action execution a1 exists. (NOT_FOUND)\n",
    });
    expect(ws.subscriptions).toEqual([{ actionExecutionId: "a1", after: 2 }]);
  });

  it("reports the close code when the server refuses the connection", async () => {
    const { fetch } = fakeFetch(openLog);
    const result = await follow(fetch, ["--token", "bad"]);
    expect(result).toEqual({
      code: 1,
      stdout: "line 1\nline 2\n",
      stderr: `error: ${webSocketUrl(ws.endpoint)} closed the subscription: 4403 Forbidden\n`,
    });
    expect(ws.subscriptions).toEqual([]);
  });

  it("names the WebSocket URL it could not reach", async () => {
    const endpoint = await unreachableEndpoint();
    const { fetch } = fakeFetch(openLog);
    const result = await run(
      ["logs", "--execution", "e1", "--action", "Compile", "--follow", "--endpoint", endpoint],
      { fetch },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("line 1\nline 2\n");
    expect(result.stderr).toMatch(
      new RegExp(`^error: could not connect to ${webSocketUrl(endpoint)}: .*ECONNREFUSED.*\\n$`),
    );
  });
});

describe("webSocketUrl", () => {
  it("maps http to ws and https to wss, keeping host, path and query", () => {
    expect(webSocketUrl("http://127.0.0.1:4000/graphql")).toBe("ws://127.0.0.1:4000/graphql");
    expect(webSocketUrl("https://sluice.example/api/graphql?x=1")).toBe(
      "wss://sluice.example/api/graphql?x=1",
    );
  });
});
