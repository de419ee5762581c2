import { natsNames } from "@sluice/protocol";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { log, machineFacts, openFilesLimit } from "./env";
import { GraphQLHttpClient } from "./gql";
import { shellPipeline } from "./fanout";
import { connectNats } from "./nats";
import { OthersCpu, waitForQuiet } from "./quiet";
import type { BenchResult } from "./results";
import { cpuMs, startChildServer, startInProcessServer, type BenchServerBase } from "./server";
import { nowMs, sleep } from "./stats";

export interface LiveOptions {
  /** Open dashboards (pipeline pages), one graphql-ws client each. */
  dashboards: number;
  /** Events per measurement. */
  events: number;
  /** Page queries timed for the comparison with refetching. */
  pageQueries: number;
}

const PIPELINE = "live";

/**
 * What the dashboard's pipeline page subscribes to (web/src/features/pipeline/queries.ts
 * PIPELINE_EVENTS with web/src/components/live-change.ts), sent as the web sends it.
 */
const SUBSCRIPTION = `subscription PipelineViewEvents($name: String!) {
  pipelineEvents(pipelineName: $name) { ...LiveChange }
}
fragment LiveChange on PipelineEvent {
  type pipelineName executionId sequence stageName actionName actionExecutionId status at by
  statusSummary startTime endTime attempt approvalPending summary errorDetails { code message }
  agentName outputVariables outputArtifacts { name size sha256 }
}`;

/** The pipeline page's query (web/src/features/pipeline/queries.ts PIPELINE_VIEW): what it sent per event before. */
const PAGE_QUERY = `query PipelineView($name: String!) {
  pipeline(name: $name) {
    id name version executionMode
    stages { name actions { name runOrder actionTypeId { category provider } } }
    state { stages {
      name
      inboundTransition { enabled disabledReason disabledBy disabledAt }
      latestExecution { executionId status }
      waitingExecutions { executionId waitingReason { code message since } }
      actions { name latestExecution { actionExecutionId executionId status lastStatusChange approvalPending summary errorDetails { code message } } }
    } }
    executions(first: 20) { nodes {
      id sequence status statusSummary startTime endTime
      currentStage { stageName entered }
      waitingReason { code message }
      sourceRevisions { actionName revisionId revisionSummary }
      stages { name status actions { id name status startTime endTime outputVariables waitingReason { code message } } }
    } }
  }
}`;

const CREATE = `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name version } }`;
const EXECUTION = `query { pipeline(name: "${PIPELINE}") { executions(first: 1) { nodes { id sequence } } } }`;

const livePipeline = shellPipeline(PIPELINE, false);

/**
 * The events of an action's run as the engine publishes them (with what changed), for an
 * execution that never ends: queued, started, succeeded with its outputs, over and over.
 */
function eventSource(executionId: string, firstSequence: number) {
  let sequence = firstSequence;
  let attempt = 0;
  return (): Record<string, unknown> => {
    sequence += 1;
    const at = new Date().toISOString();
    const step = sequence % 3;
    if (step === 0) attempt += 1;
    const type = step === 0 ? "ACTION_QUEUED" : step === 1 ? "ACTION_STARTED" : "ACTION_SUCCEEDED";
    return {
      pipelineName: PIPELINE,
      type,
      executionId,
      sequence,
      stageName: "Build",
      actionName: "Make",
      actionExecutionId: `00000000-0000-4000-8000-${String(attempt).padStart(12, "0")}`,
      status: step === 0 ? "Queued" : step === 1 ? "InProgress" : "Succeeded",
      at,
      attempt: 1,
      approvalPending: false,
      summary: step === 2 ? "built app 1.2.3" : null,
      errorDetails: null,
      agentName: step === 0 ? null : "agent-1",
      startTime: step === 0 ? null : at,
      endTime: step === 2 ? at : null,
      ...(step === 2
        ? {
            outputVariables: { Version: "1.2.3", Image: "registry.example/app:1.2.3" },
            outputArtifacts: [
              { name: "Bin", objectKey: "artifacts/x/Bin.tgz", size: 1234567, sha256: "a".repeat(64) },
            ],
          }
        : {}),
    };
  };
}

/** `count` dashboards: graphql-ws clients subscribed as the pipeline page is; `received[i]` the last sequence client i got. */
async function openDashboards(
  server: BenchServerBase,
  count: number,
  clients: Client[],
  received: number[],
): Promise<void> {
  const wsUrl = server.url.replace(/^http/, "ws");
  for (let start = 0; start < count; start += 100) {
    const batch: Array<Promise<void>> = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      const index = received.length;
      received.push(0);
      batch.push(
        new Promise<void>((resolve, reject) => {
          const client = createClient({
            url: wsUrl,
            webSocketImpl: WebSocket,
            connectionParams: { authorization: `Bearer ${server.token}` },
            retryAttempts: 0,
            on: { connected: () => resolve(), error: (e) => reject(e as Error) },
          });
          clients.push(client);
          client.subscribe<{ pipelineEvents: { sequence: number } }>(
            { query: SUBSCRIPTION, variables: { name: PIPELINE }, operationName: "PipelineViewEvents" },
            {
              next: (value) => {
                const sequence = value.data?.pipelineEvents.sequence;
                if (typeof sequence === "number") received[index] = sequence;
              },
              error: () => undefined,
              complete: () => undefined,
            },
          );
        }),
      );
    }
    await Promise.all(batch);
  }
}

/** Publishes events (as the outbox relay does) one at a time, each once every dashboard has the one before. */
async function publishAll(
  publish: (event: Record<string, unknown>) => void,
  next: () => Record<string, unknown>,
  received: number[],
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const event = next();
    publish(event);
    const sequence = event.sequence as number;
    const deadline = Date.now() + 10_000;
    while (!received.every((s) => s >= sequence)) {
      if (Date.now() > deadline) throw new Error(`event ${sequence} did not reach every dashboard`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/**
 * Live views: the server's work per event per open dashboard, now that events carry what changed
 * and the dashboard applies them instead of fetching its page again (docs/ARCHITECTURE.md, live
 * views). A child server process; `dashboards` graphql-ws clients subscribed as the pipeline
 * page is; synthetic action events published to NATS as the outbox relay publishes the engine's
 * (no engine work behind them: what is measured is the fan-out). Server CPU per event with one
 * dashboard and with all, the difference per added dashboard, and for comparison the server CPU
 * of one page query (what every dashboard sent per event before). Then, with the server in this
 * process, the SQL statements the fan-out sends per event, and those of one page query.
 */
export async function runLive(options: LiveOptions): Promise<BenchResult> {
  const limit = openFilesLimit();
  if (limit !== null && limit < options.dashboards + 200) {
    throw new Error(`The open files limit is ${limit}; raise it (\`ulimit -n 4096\`) and run again.`);
  }
  const cpu = await measureCpu(options);
  const sql = await measureSql(options);
  const perDashboardUs = cpu.perEventPerDashboardUs;
  return {
    name: "live",
    title: `Live views: server work per event per open dashboard (${options.dashboards} dashboards, one server process)`,
    date: new Date().toISOString(),
    machine: machineFacts(),
    parameters: {
      dashboards: options.dashboards,
      events: options.events,
      pageQueries: options.pageQueries,
      subscription: SUBSCRIPTION.replace(/\s+/g, " "),
      event:
        "ACTION_QUEUED / ACTION_STARTED / ACTION_SUCCEEDED (with outputs) of one execution, in turn, published to NATS",
      server: "server/dist/src/main.js as a child process for CPU; in the bench process for the SQL count",
    },
    figures: [
      {
        label: "server CPU per event per open dashboard",
        value: perDashboardUs,
        unit: "µs",
        goalMax: 50,
        note: `(server CPU with ${options.dashboards} dashboards − idle) / (events × dashboards)`,
      },
      {
        label: "server CPU per event per added dashboard",
        value: cpu.marginalUs,
        unit: "µs",
        note: `(CPU with ${options.dashboards} − CPU with 1) / (events × ${options.dashboards - 1})`,
      },
      { label: "server CPU per event, one dashboard", value: cpu.oneDashboardUs, unit: "µs" },
      {
        label: "SQL statements per event (fan-out)",
        value: sql.perEvent,
        unit: "",
        goalMax: 0,
        note: `${sql.dashboards} dashboards, ${sql.events} events`,
      },
      {
        label: "before: server CPU of one page query (per event per dashboard)",
        value: cpu.pageQueryUs,
        unit: "µs",
        note: "the pipeline page's query, what each dashboard sent per event until now",
      },
      { label: "before: SQL statements of one page query", value: sql.perPageQuery, unit: "" },
    ],
    notes: [
      `The events are synthetic but shaped as the engine's (events.ts \`emit\`): each carries the attempt's ` +
        `state, the ACTION_SUCCEEDED ones output variables and an artifact. No engine work is behind them, ` +
        `so the server's CPU is the fan-out's: the NATS message decoded once, the subscription executed ` +
        `once per event for all the dashboards that share it (server/src/graphql/subscription-hub.ts), the ` +
        `result serialized once and one socket write per dashboard.`,
      `Idle server CPU over the same time (${cpu.idleMs} ms for ${cpu.wallMs} ms of measurement) is subtracted.`,
      `What is left per dashboard is the socket write (the kernel's loopback TCP path) and its share of the ` +
        `garbage collection; the dashboards (all in the bench process) use the same 2 cores.`,
      `Other processes used ${Math.round(cpu.othersShareOfCore * 100)} % of a core during the measurement` +
        `${cpu.othersShareOfCore > 0.05 ? ": the figures are skewed by them" : ""}; load average when it ended ${machineFacts().loadAverage?.join(" / ") ?? "?"}.`,
      `Pages that still fetch again (the agents page's waiting jobs, notifications, a new execution, a wait ` +
        `starting, a transition toggled, an execution's end on ` +
        `its page): docs/ARCHITECTURE.md, live views.`,
    ],
    details: { cpu, sql },
  };
}

async function measureCpu(options: LiveOptions) {
  const server = await startChildServer({});
  const http = new GraphQLHttpClient(server.url, server.token);
  const nc = await connectNats("sluice-bench-live");
  const clients: Client[] = [];
  try {
    await http.data(CREATE, { input: livePipeline });
    const { pipeline } = await http.data<{
      pipeline: { executions: { nodes: Array<{ id: string; sequence: number }> } };
    }>(EXECUTION);
    const execution = pipeline.executions.nodes[0]!;
    const next = eventSource(execution.id, execution.sequence + 1000);
    const subject = natsNames(server.natsPrefix).subjects.event(PIPELINE);
    const publish = (event: Record<string, unknown>) => nc.publish(subject, JSON.stringify(event));
    const received: number[] = [];

    const measure = async (label: string) => {
      await publishAll(publish, next, received, 50); // warm
      await waitForQuiet(server.pid);
      const idleStart = cpuMs(server.pid);
      const idleWallStart = nowMs();
      await sleep(2000);
      const idlePerMs = (cpuMs(server.pid) - idleStart) / (nowMs() - idleWallStart);
      const others = new OthersCpu(server.pid);
      const started = nowMs();
      await publishAll(publish, next, received, options.events);
      const wallMs = nowMs() - started;
      const used = others.read();
      const idleMs = idlePerMs * wallMs;
      log(
        `live: ${label}: server ${Math.round(used.server)} ms CPU for ${options.events} events in ${Math.round(wallMs)} ms`,
      );
      return { serverMs: used.server, idleMs, wallMs, othersShareOfCore: used.othersShareOfCore };
    };

    await openDashboards(server, 1, clients, received);
    await publishAll(publish, next, received, 5);
    const one = await measure("1 dashboard");
    await openDashboards(server, options.dashboards - 1, clients, received);
    await publishAll(publish, next, received, 5);
    const all = await measure(`${options.dashboards} dashboards`);

    // The page query every dashboard sent per event until now.
    for (let i = 0; i < 20; i++) await http.data(PAGE_QUERY, { name: PIPELINE });
    await waitForQuiet(server.pid);
    const before = cpuMs(server.pid);
    const started = nowMs();
    for (let i = 0; i < options.pageQueries; i++) await http.data(PAGE_QUERY, { name: PIPELINE });
    const pageMs = cpuMs(server.pid) - before;
    log(
      `live: ${options.pageQueries} page queries: ${Math.round(pageMs)} ms server CPU in ${Math.round(nowMs() - started)} ms`,
    );

    const us = (ms: number) => Math.round(ms * 1000 * 10) / 10;
    const net = (m: { serverMs: number; idleMs: number }) => Math.max(0, m.serverMs - m.idleMs);
    return {
      perEventPerDashboardUs: us(net(all) / options.events / options.dashboards),
      marginalUs: us((all.serverMs - one.serverMs) / options.events / (options.dashboards - 1)),
      oneDashboardUs: us(net(one) / options.events),
      pageQueryUs: us(pageMs / options.pageQueries),
      idleMs: Math.round(all.idleMs),
      wallMs: Math.round(all.wallMs),
      othersShareOfCore: Math.round(all.othersShareOfCore * 100) / 100,
      raw: { one, all, pageQueriesServerMs: pageMs },
    };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await nc.close();
    http.close();
    await server.stop();
  }
}

/**
 * The SQL the fan-out sends: the server in this process, the pg client's `query` wrapped; a
 * statement counts when its call stack (async frames included) passes through the GraphQL layer
 * (server/dist/src/graphql or graphql-js's execution), so that the server's background work
 * (agent liveness, timers, the outbox relay) is left out.
 */
async function measureSql(options: LiveOptions) {
  const server = await startInProcessServer();
  const http = new GraphQLHttpClient(server.url, server.token);
  const nc = await connectNats("sluice-bench-live-sql");
  const clients: Client[] = [];
  const proto = (
    server.server.db.driver as unknown as {
      master: { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
    }
  ).master.Client.prototype;
  const query = proto.query;
  let counting = false;
  let graphql = 0;
  let all = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    if (counting) {
      all++;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 200;
      const stack = new Error().stack ?? "";
      Error.stackTraceLimit = limit;
      if (/[/\\]src[/\\]graphql[/\\]|[/\\]graphql[/\\]execution[/\\]/.test(stack)) graphql++;
    }
    return query.apply(this, args);
  };
  try {
    await http.data(CREATE, { input: livePipeline });
    const { pipeline } = await http.data<{
      pipeline: { executions: { nodes: Array<{ id: string; sequence: number }> } };
    }>(EXECUTION);
    const execution = pipeline.executions.nodes[0]!;
    const next = eventSource(execution.id, execution.sequence + 1000);
    const subject = natsNames(server.natsPrefix).subjects.event(PIPELINE);
    const publish = (event: Record<string, unknown>) => nc.publish(subject, JSON.stringify(event));
    const received: number[] = [];
    const dashboards = Math.min(options.dashboards, 100);
    await openDashboards(server, dashboards, clients, received);
    await publishAll(publish, next, received, 5);
    const events = Math.min(options.events, 300);
    counting = true;
    await publishAll(publish, next, received, events);
    counting = false;
    const fanout = { graphql, all };
    graphql = 0;
    all = 0;
    const queries = 20;
    counting = true;
    for (let i = 0; i < queries; i++) await http.data(PAGE_QUERY, { name: PIPELINE });
    counting = false;
    log(
      `live: SQL: ${fanout.graphql} statements by the fan-out for ${events} events; ${graphql / queries} per page query`,
    );
    return {
      dashboards,
      events,
      perEvent: fanout.graphql / events,
      backgroundStatementsMeanwhile: fanout.all - fanout.graphql,
      perPageQuery: graphql / queries,
    };
  } finally {
    proto.query = query;
    await Promise.all(clients.map((c) => c.dispose()));
    await nc.close();
    http.close();
    await server.stop();
  }
}
