/**
 * A stateful stand-in for the parts of the Sluice API that waiting uses, on one real HTTP server:
 * POSTs answer `startPipelineExecution` and `pipelineExecution` (with `events(afterSequence:)`) from the
 * executions the test builds, and a real graphql-ws server (ws + useServer, a tiny schema) serves the
 * `executionEvents` subscription. `emit` records an event, updates the execution like the server
 * would, and sends it to the live subscribers (unless `live: false`, to simulate a missed event).
 */
import { pushable } from "./pushable";
import { buildSchema, type GraphQLFieldConfig } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { START_EXECUTION_MUTATION } from "../../src/commands/start-pipeline-execution";
import {
  EXECUTION_EVENTS_SUBSCRIPTION,
  EXECUTION_PROGRESS_QUERY,
  type ExecutionEvent,
  type ExecutionProgress,
} from "../../src/execution-wait";

const schema = buildSchema(`
  type PipelineEvent {
    type: String! sequence: Int stageName: String actionName: String status: String at: String!
  }
  type Query { ok: Boolean }
  type Subscription { executionEvents(executionId: ID!): PipelineEvent! }
`);

export interface FakeExecution {
  progress: ExecutionProgress;
  events: ExecutionEvent[];
}

interface LiveSubscription {
  executionId: string;
  push(event: ExecutionEvent): void;
  ended: Promise<void>;
}

export interface ExecutionServer {
  endpoint: string;
  executions: Map<string, FakeExecution>;
  /** The body of every POST, in order. */
  requests: { query: string; variables: Record<string, unknown> }[];
  /** The variables of each subscribe, in order. */
  subscriptions: Record<string, unknown>[];
  /** connectionParams of each connection. */
  connections: unknown[];
  /** Each subscription's source ending (the client unsubscribed or the socket closed). */
  ended: Promise<void>[];
  /** The id startPipelineExecution answers with (the execution must have been added). */
  releaseId: string;
  /** The next N pipelineExecution reads answer HTTP 503. */
  failReads: number;
  /** Called each time a subscription starts listening, with how many have so far. */
  onSubscribed?: (count: number) => void;
  add(id: string, pipelineName: string, stages: Record<string, string[]>): FakeExecution;
  emit(
    id: string,
    type: string,
    detail?: { stageName?: string; actionName?: string; status?: string; live?: boolean },
  ): ExecutionEvent;
  /** Resolves once `count` subscriptions have started listening. */
  subscribed(count?: number): Promise<void>;
  /** Cuts every WebSocket without a close frame (as a lost connection). */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startExecutionServer(): Promise<ExecutionServer> {
  const live = new Set<LiveSubscription>();
  const waiters: { count: number; resolve: () => void }[] = [];
  let clock = Date.parse("2025-01-01T00:00:00.000Z");

  const fixture = {
    executions: new Map<string, FakeExecution>(),
    requests: [],
    subscriptions: [],
    connections: [],
    ended: [],
    releaseId: "e1",
    failReads: 0,
  } as unknown as ExecutionServer;

  fixture.add = (id, pipelineName, stages) => {
    const execution: FakeExecution = {
      progress: {
        id,
        pipelineName,
        status: "InProgress",
        statusSummary: null,
        sequence: 0,
        stages: Object.entries(stages).map(([name, actions]) => ({
          name,
          status: null,
          actions: actions.map((a) => ({ name: a, status: null, summary: null })),
        })),
      },
      events: [],
    };
    fixture.executions.set(id, execution);
    return execution;
  };

  fixture.emit = (id, type, detail = {}) => {
    const execution = fixture.executions.get(id)!;
    const { progress } = execution;
    clock += 1000;
    const event: ExecutionEvent = {
      type,
      sequence: progress.sequence + 1,
      stageName: detail.stageName ?? null,
      actionName: detail.actionName ?? null,
      status: detail.status ?? null,
      at: new Date(clock).toISOString(),
    };
    progress.sequence = event.sequence!;
    execution.events.push(event);
    const stage = progress.stages.find((s) => s.name === event.stageName);
    if (type.startsWith("EXECUTION_") && type !== "EXECUTION_WAITING" && event.status) {
      progress.status = event.status;
    } else if (type.startsWith("STAGE_") && stage) stage.status = event.status;
    else if (stage && event.actionName) {
      const action = stage.actions.find((a) => a.name === event.actionName)!;
      action.status = event.status;
    }
    if (detail.live !== false) {
      for (const subscription of live) if (subscription.executionId === id) subscription.push(event);
    }
    return event;
  };

  fixture.subscribed = (count = 1) =>
    fixture.subscriptions.length >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ count, resolve }));

  const field = schema.getSubscriptionType()!.getFields()["executionEvents"] as unknown as GraphQLFieldConfig<
    unknown,
    unknown
  >;
  field.resolve = (event) => event;
  field.subscribe = (_root, args: Record<string, unknown>) => {
    fixture.subscriptions.push(args);
    const feed = pushable<ExecutionEvent>({ onEnd: () => live.delete(subscription) });
    const subscription: LiveSubscription = {
      executionId: String(args["executionId"]),
      push: feed.push,
      ended: feed.ended,
    };
    fixture.ended.push(subscription.ended);
    live.add(subscription);
    const iterator = feed.iterator;
    const count = fixture.subscriptions.length;
    // Listening from now on: tell the test once this returns (graphql-ws then reads the iterator).
    setImmediate(() => {
      for (const waiter of [...waiters]) {
        if (count >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      fixture.onSubscribed?.(count);
    });
    return iterator;
  };

  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ExecutionServer["requests"][number];
      fixture.requests.push(body);
      const send = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (body.query === START_EXECUTION_MUTATION) {
        return send(200, {
          data: { startPipelineExecution: { pipelineExecution: { id: fixture.releaseId } } },
        });
      }
      if (body.query === EXECUTION_PROGRESS_QUERY) {
        if (fixture.failReads > 0) {
          fixture.failReads -= 1;
          return send(503, { message: "unavailable" });
        }
        const execution = fixture.executions.get(String(body.variables["id"]));
        if (!execution) return send(200, { data: { pipelineExecution: null } });
        const after = Number(body.variables["afterSequence"]);
        return send(200, {
          data: {
            pipelineExecution: {
              ...structuredClone(execution.progress),
              events: execution.events.filter((e) => e.sequence! > after),
            },
          },
        });
      }
      send(500, { message: `unexpected query ${body.query}` });
    });
  });
  const wss = new WebSocketServer({ server: http, path: "/graphql" });
  const cleanup = useServer(
    {
      schema,
      onConnect: (ctx) => {
        fixture.connections.push(ctx.connectionParams);
        return ctx.connectionParams?.["authorization"] !== "Bearer bad";
      },
      onSubscribe: (_ctx, _id, payload) => {
        if (payload.query !== EXECUTION_EVENTS_SUBSCRIPTION) throw new Error(`unexpected ${payload.query}`);
      },
    },
    wss,
  );
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  fixture.endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
  fixture.dropConnections = () => {
    for (const client of wss.clients) client.terminate();
  };
  fixture.close = async () => {
    await cleanup.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return fixture;
}
