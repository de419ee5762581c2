import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { log, machineFacts, openFilesLimit } from "./env";
import { GraphQLHttpClient } from "./gql";
import { OthersCpu, waitForQuiet } from "./quiet";
import type { BenchResult } from "./results";
import { cpuMs, memoryOf, mib, rssBytes, startChildServer } from "./server";
import { nowMs, sleep, summarize } from "./stats";
import { GIT, JobResponder, SHELL } from "./worker";

export interface FanoutOptions {
  clients: number;
  changes: number;
}

const PIPELINE = "fanout";
/** Untimed changes right before the timed ones. */
const WARM_UP_CHANGES = 10;

const CREATE = `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name version } }`;
const TOGGLE = `mutation ($enabled: Boolean!, $reason: String) {
  toggleTransition(pipelineName: "${PIPELINE}", stageName: "Build", enabled: $enabled, reason: $reason) { enabled } }`;
const SUBSCRIPTION = `subscription { pipelineEvents(pipelineName: "${PIPELINE}") { type pipelineName stageName status at } }`;
const EXECUTIONS = `query { pipeline(name: "${PIPELINE}") { executions(first: 5) { nodes { id status } } } }`;

const action = (name: string, category: string, provider: string, extra: Record<string, unknown> = {}) => ({
  name,
  actionTypeId: { category, owner: "Sluice", provider, version: "1" },
  ...extra,
});

/** A Git source, a Shell build and (`deploy`) a Shell deploy, all passing `Src` on: no agent needs to run them. */
export function shellPipeline(name: string, deploy = true) {
  const stage = (stageName: string, actionName: string, category: string, commands: string) => ({
    name: stageName,
    actions: [
      action(actionName, category, "Shell", {
        configuration: { Commands: commands },
        inputArtifacts: [{ name: "Src" }],
      }),
    ],
  });
  return {
    name,
    stages: [
      {
        name: "Source",
        actions: [
          action("Checkout", "Source", "Git", {
            configuration: { Repository: "https://git.example/app.git", Branch: "main" },
            outputArtifacts: [{ name: "Src" }],
          }),
        ],
      },
      stage("Build", "Make", "Build", "make"),
      ...(deploy ? [stage("Deploy", "Push", "Deploy", "./deploy")] : []),
    ],
  };
}

const fanoutPipeline = shellPipeline(PIPELINE);

interface EventPayload {
  type: string;
  at: string;
}

/**
 * Receives one change on every client: `begin()` arms it, every client's first matching event is
 * timed, `done` resolves when the last client has it.
 */
class Round {
  readonly received: Float64Array;
  count = 0;
  at: string | null = null;
  private resolve: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(
    readonly expectedType: string,
    clients: number,
  ) {
    this.received = new Float64Array(clients);
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  take(client: number, event: EventPayload, time: number): void {
    if (event.type !== this.expectedType || this.received[client] !== 0) return;
    this.received[client] = time;
    this.at ??= event.at;
    if (++this.count === this.received.length) this.resolve?.();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Scenario 1: `options.clients` graphql-ws clients (one WebSocket each, all in this process)
 * subscribed to one pipeline's events on one server process; `options.changes` transition
 * toggles, each timed from its commit to the last client receiving it.
 */
export async function runFanout(options: FanoutOptions): Promise<BenchResult> {
  const limit = openFilesLimit();
  const needed = options.clients + 200;
  if (limit !== null && limit < needed) {
    throw new Error(
      `The open files limit is ${limit}; ${options.clients} WebSocket clients need about ${needed} ` +
        `(the server process inherits the same limit). Raise it in the shell (\`ulimit -n 4096\`) and run again.`,
    );
  }
  log(`fan-out: open files limit ${limit ?? "unknown"} (needs about ${needed}): enough`);
  const server = await startChildServer({ inspect: true });
  const http = new GraphQLHttpClient(server.url, server.token);
  const responder = await JobResponder.start(
    server.natsPrefix,
    [GIT, SHELL("Build"), SHELL("Deploy")],
    () => ({
      outcome: "Succeeded",
    }),
  );
  const clients: Client[] = [];
  try {
    await http.data(CREATE, { input: fanoutPipeline });
    // The pipeline's first execution runs by itself; let it finish so that only toggles happen later.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const data = await http.data<{ pipeline: { executions: { nodes: Array<{ status: string }> } } }>(
        EXECUTIONS,
      );
      if (data.pipeline.executions.nodes[0]?.status === "Succeeded") break;
      if (Date.now() > deadline) throw new Error("the fanout pipeline's first execution did not succeed");
      await sleep(100);
    }
    let enabled = true;
    const toggle = async () => {
      enabled = !enabled;
      await http.data(TOGGLE, { enabled, reason: enabled ? null : "bench: fan-out" });
      return enabled ? "TRANSITION_ENABLED" : "TRANSITION_DISABLED";
    };
    // Warm the HTTP and engine paths before measuring memory (an even number: ends enabled).
    for (let i = 0; i < 20; i++) await toggle();
    await sleep(1500);
    // What the server does on its own: with no request and no subscriber it should sleep.
    const idleCpuBefore = cpuMs(server.pid);
    await sleep(3000);
    const idleCpuPercent = Math.round((cpuMs(server.pid) - idleCpuBefore) / 30);
    log(`fan-out: idle server CPU ${idleCpuPercent} % of one core`);
    const before = await memoryOf(server);

    log(`fan-out: connecting ${options.clients} graphql-ws clients`);
    let round: Round | null = null;
    const wsUrl = server.url.replace(/^http/, "ws");
    const errors: string[] = [];
    const connectStarted = nowMs();
    for (let start = 0; start < options.clients; start += 100) {
      const batch: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(options.clients, start + 100); i++) {
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
            client.subscribe<{ pipelineEvents: EventPayload }>(
              { query: SUBSCRIPTION },
              {
                next: (value) => {
                  const time = nowMs();
                  const event = value.data?.pipelineEvents;
                  if (event && round) round.take(i, event, time);
                },
                error: (e) => {
                  if (errors.length < 5) errors.push(String((e as Error).message ?? e));
                },
                complete: () => undefined,
              },
            );
          }),
        );
      }
      await Promise.all(batch);
    }
    const connectMs = nowMs() - connectStarted;
    log(`fan-out: ${options.clients} clients connected in ${Math.round(connectMs)} ms`);

    // A subscription is registered once its first event arrives: toggle until every client has one.
    let warmedUp = false;
    for (let attempt = 0; attempt < 10 && !warmedUp; attempt++) {
      round = new Round(await toggle(), options.clients);
      warmedUp = (await withTimeout(round.done, 5000)) !== "timeout";
    }
    if (!warmedUp) throw new Error(`not every client received the warm-up events: ${errors.join("; ")}`);
    // Warm the fan-out path itself, then measure memory with every subscription in place.
    for (let i = 0; i < 20; i++) {
      round = new Round(await toggle(), options.clients);
      await withTimeout(round.done, 5000);
    }
    if (enabled) {
      round = new Round(await toggle(), options.clients);
      await withTimeout(round.done, 5000);
    }
    await sleep(1500);
    const after = await memoryOf(server);
    log(
      `fan-out: server RSS ${mib(before.rss)} MiB → ${mib(after.rss)} MiB, JS heap ${mib(before.heap)} MiB → ` +
        `${mib(after.heap)} MiB; measuring ${options.changes} changes`,
    );

    const commitToLast: number[] = [];
    const commitToFirst: number[] = [];
    const responseToLast: number[] = [];
    const sendToLast: number[] = [];
    const mutationMs: number[] = [];
    const spread: number[] = [];
    let missed = 0;
    const quiet = await waitForQuiet(server.pid);
    // The full GC of the memory figure and the quiet wait leave both processes cold (code and
    // caches aged, sockets idle): a few untimed changes first, so that the figures are the
    // steady state a busy installation runs in.
    for (let i = 0; i < WARM_UP_CHANGES; i++) {
      round = new Round(await toggle(), options.clients);
      await withTimeout(round.done, 5000);
      await sleep(10);
    }
    const cpu = new OthersCpu(server.pid);
    const wallBefore = nowMs();
    for (let i = 0; i < options.changes; i++) {
      const expected = enabled ? "TRANSITION_DISABLED" : "TRANSITION_ENABLED";
      round = new Round(expected, options.clients);
      const sent = nowMs();
      const type = await toggle();
      const answered = nowMs();
      if (type !== expected) throw new Error(`toggled to ${type}, expected ${expected}`);
      if ((await withTimeout(round.done, 10_000)) === "timeout") {
        missed += options.clients - round.count;
        continue;
      }
      const received = Array.from(round.received);
      const last = Math.max(...received);
      const first = Math.min(...received);
      const at = Date.parse(round.at!);
      commitToLast.push(last - at);
      commitToFirst.push(first - at);
      responseToLast.push(last - answered);
      sendToLast.push(last - sent);
      mutationMs.push(answered - sent);
      spread.push(last - first);
      await sleep(10);
    }
    const wallMs = nowMs() - wallBefore;
    const used = cpu.read();
    const serverCpu = used.server;
    const benchCpu = used.bench;
    const servicesCpu = used.services;
    const othersCpu = used.others;
    const skewed = used.othersShareOfCore > 0.05;
    const perChange = (ms: number) => Math.round((ms / options.changes) * 10) / 10;
    const rssEnd = rssBytes(server.pid);

    const c2l = summarize(commitToLast);
    const r2l = summarize(responseToLast);
    const perSubscriber = (after.rss - before.rss) / options.clients;
    const heapPerSubscriber = (after.heap - before.heap) / options.clients;
    return {
      name: "fanout",
      title: `Subscription fan-out: ${options.clients.toLocaleString("en-US")} graphql-ws clients, one server process`,
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: {
        clients: options.clients,
        changes: options.changes,
        change: "toggleTransition of stage Build, disable/enable alternately, one at a time",
        subscription: SUBSCRIPTION,
        server: "server/dist/src/main.js as a child process, PostgreSQL, NATS JetStream, LOG_LEVEL=info",
        clientsProcess: "all clients in the bench process, one WebSocket each",
      },
      figures: [
        {
          label: "commit → last client, p50",
          value: c2l.p50,
          unit: "ms",
          note: "receive time minus the event's `at`",
        },
        { label: "commit → last client, p99", value: c2l.p99, unit: "ms", goalMax: 50 },
        {
          label: "mutation response → last client, p50",
          value: r2l.p50,
          unit: "ms",
          note: "receive time minus the time the client had the mutation's answer",
        },
        { label: "mutation response → last client, p99", value: r2l.p99, unit: "ms", goalMax: 50 },
        { label: "commit → first client, p50", value: summarize(commitToFirst).p50, unit: "ms" },
        { label: "first → last client, p50", value: summarize(spread).p50, unit: "ms" },
        {
          label: "server memory per subscriber",
          value: Math.round(perSubscriber),
          unit: "bytes",
          note: "RSS after a full GC, before and after subscribing",
        },
        { label: "of which JavaScript heap", value: Math.round(heapPerSubscriber), unit: "bytes" },
        { label: "events not delivered", value: missed, unit: "" },
        {
          label: "server CPU while idle (no request, no subscriber)",
          value: idleCpuPercent,
          unit: "% of a core",
        },
      ],
      notes: [
        `\`at\` is taken in the engine's transaction just before it commits, so "commit → last" slightly ` +
          `overstates; the mutation's answer comes after the commit, so "mutation response → last" understates.`,
        `CPU per change: the server ${perChange(serverCpu)} ms (${Math.round((serverCpu / options.changes / options.clients) * 1000)} µs per ` +
          `subscriber), the bench's ${options.clients.toLocaleString("en-US")} clients ${perChange(benchCpu)} ms, ` +
          `PostgreSQL and NATS ${perChange(servicesCpu)} ms, other processes ${perChange(othersCpu)} ms, ` +
          `over ${Math.round(wallMs / options.changes)} ms of wall time per change on ${machineFacts().cpus} cores.` +
          (skewed
            ? ` Other processes used ${Math.round((othersCpu / wallMs) * 100)} % of a core meanwhile: these figures are skewed by them.`
            : ""),
        "The server executes each distinct subscription once per event, serializes the result once and " +
          "writes it to every client holding it with only the subscription id prefixed " +
          "(server/src/graphql/subscription-hub.ts). What is left per subscriber is one socket write: a CPU " +
          "profile of the server (README.md, Profiling) puts most of its time in writev (about 11 µs each " +
          "on this machine, the kernel's loopback TCP path), then garbage collection.",
        `The clients all run in the bench process, which spends about ` +
          `${Math.round((benchCpu / options.changes / options.clients) * 1000)} µs per message received on the ` +
          "same 2 cores as the server, PostgreSQL and NATS: the median is bounded by the two processes' CPU " +
          "(the server writing 1,000 messages while the bench reads them), and the p99 by what else runs. " +
          "The bench process runs with a 64 MiB young generation (`--max-semi-space-size=64`, bench/package.json): " +
          "with the default one, its own scavenges over 1,000 sockets took up to 18 ms and showed as latency " +
          "of the server.",
        `${WARM_UP_CHANGES} untimed changes precede the ${options.changes} timed ones.`,
      ],
      details: {
        commitToLastMs: c2l,
        commitToFirstMs: summarize(commitToFirst),
        responseToLastMs: r2l,
        sendToLastMs: summarize(sendToLast),
        mutationRoundTripMs: summarize(mutationMs),
        firstToLastMs: summarize(spread),
        serverRssBytes: { beforeSubscribing: before.rss, subscribed: after.rss, afterChanges: rssEnd },
        serverJsHeapBytesAfterFullGc: { beforeSubscribing: before.heap, subscribed: after.heap },
        jsHeapPerSubscriberBytes: Math.round(heapPerSubscriber),
        memoryPerSubscriberBytes: Math.round(perSubscriber),
        connectAllMs: Math.round(connectMs),
        measuredWallMs: Math.round(wallMs),
        serverIdleCpuPercentOfCore: idleCpuPercent,
        waitedForQuietMachine: quiet,
        otherProcessesShareOfCore: Math.round(used.othersShareOfCore * 100) / 100,
        cpuMsPerChange: {
          server: perChange(serverCpu),
          bench: perChange(benchCpu),
          postgresAndNats: perChange(servicesCpu),
          otherProcesses: perChange(othersCpu),
        },
        clientErrors: errors,
        raw: { commitToLastMs: commitToLast.map((x) => Math.round(x * 100) / 100) },
      },
    };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    http.close();
    await responder.stop();
    await server.stop();
  }
}
