import { spawn } from "node:child_process";
import fs from "node:fs";
import nodeHttp from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { natsNames } from "@sluice/protocol";
import { startAgentProcess, waitOnline, type AgentProcess } from "./agents";
import { measureArtifacts, type ArtifactFigures } from "./artifacts";
import { SERVICES, log, machineBusyCpuMs, machineFacts, processesCpuMs, tempDir } from "./env";
import { GraphQLHttpClient } from "./gql";
import { connectNats } from "./nats";
import { OthersCpu, waitForQuiet } from "./quiet";
import type { BenchResult, Figure } from "./results";
import { cpuMs, startChildServer } from "./server";
import { nowMs, sleep, summarize, type Summary } from "./stats";

export interface DispatchOptions {
  /** Sequential executions of the 10-stage pipeline on the long-polling agents (10 dispatches each). */
  pushRuns: number;
  /** The same on the polling agent. */
  pollRuns: number;
  agents: number;
  concurrency: number;
  pollIntervalMs: number;
  throughputPipelines: number;
  /** Parallel no-op Shell actions in each throughput execution's second stage. */
  throughputWidth: number;
  /** Executions kept in flight per throughput pipeline. */
  throughputInFlight: number;
  warmupS: number;
  windowS: number;
  artifactMB: number;
  artifactRepeats: number;
  /** Measure the throughput again with a notification rule on every throughput pipeline. */
  notifyCompare: boolean;
  /**
   * Rounds of the comparison: each measures a window with the rules muted and one with them on,
   * in alternating order (ABBA), so that a drift of the machine's load falls on both sides.
   */
  notifyRounds: number;
  /** Warm-up and window of each measurement of the comparison, in seconds. */
  notifyWarmupS: number;
  notifyWindowS: number;
}

/** Interleaved rounds of throughput with rules notifying a webhook receiver of every success, and without. */
interface NotifiedThroughput {
  /** Median throughput with the rules on. */
  throughput: number;
  /** Median throughput with the same rules muted (the trigger finds no enabled rule). */
  without: number;
  /** Median of the rounds' ratios (with ÷ without): what notifying costs the engine. */
  ratio: number;
  rounds: Array<{ order: string; without: number; with: number; ratio: number }>;
  /** Messages the receiver got over all rounds. */
  delivered: number;
  failures: number;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A webhook receiver in the bench process: answers 204 to every POST and counts them. */
async function startReceiver(): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let received = 0;
  const server = nodeHttp.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const NOOP = { category: "Source", owner: "Custom", provider: "Noop", version: "1" };
export const SHELL = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" };
/** Prints the time bash runs it, in µs (bash 5's $EPOCHREALTIME). */
export const STAMP = "echo $EPOCHREALTIME";

export const CREATE = `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`;
export const RELEASE = `mutation ($name: String!) { releaseChange(pipelineName: $name) { id } }`;
const EXECUTIONS = `query ($name: String!) { pipeline(name: $name) { executions(first: 1) { nodes { id status statusSummary } } } }`;
const ATTEMPTS = `query ($id: ID!) { pipelineExecution(id: $id) { id status startTime endTime
  stages { name actions { name attempts { id attempt status queuedAt startTime endTime } } } } }`;
const LOG = `query ($id: ID!) { actionLog(actionExecutionId: $id, first: 100) { nodes { stream text } } }`;
export const EVENTS = `subscription ($name: String) { pipelineEvents(pipelineName: $name) {
  type pipelineName executionId actionName status at } }`;

export interface PipelineEvent {
  type: string;
  pipelineName: string;
  executionId: string | null;
  actionName: string | null;
  status: string | null;
  at: string;
}

/** Source (the no-op custom type) and `stages - 1` stages of one no-op Shell action each. */
export function chainPipeline(name: string, stages: number, pool: string | null) {
  const region = pool === null ? {} : { region: pool };
  return {
    name,
    stages: [
      {
        name: "Source",
        actions: [{ name: "Noop", actionTypeId: NOOP, outputArtifacts: [{ name: "Src" }], ...region }],
      },
      ...Array.from({ length: stages - 1 }, (_, i) => ({
        name: `S${i + 2}`,
        actions: [
          {
            name: `A${i + 2}`,
            actionTypeId: SHELL,
            inputArtifacts: [{ name: "Src" }],
            configuration: { Commands: STAMP },
            ...region,
          },
        ],
      })),
    ],
  };
}

/** PARALLEL executions of Source → `width` no-op Shell actions side by side. */
export function widePipeline(name: string, width: number) {
  return {
    name,
    executionMode: "PARALLEL",
    stages: [
      { name: "Source", actions: [{ name: "Noop", actionTypeId: NOOP, outputArtifacts: [{ name: "Src" }] }] },
      {
        name: "Run",
        actions: Array.from({ length: width }, (_, i) => ({
          name: `N${i + 1}`,
          actionTypeId: SHELL,
          inputArtifacts: [{ name: "Src" }],
          configuration: { Commands: "true" },
        })),
      },
    ],
  };
}

/** Routes every pipeline event the bench subscribed to; waiters resolve on an execution's end. */
export class EventRouter {
  readonly ended = new Map<string, { type: string; receivedAt: number; at: string }>();
  private readonly waiters = new Map<string, () => void>();
  onEvent: ((event: PipelineEvent, receivedAt: number) => void) | null = null;

  take(event: PipelineEvent, receivedAt: number): void {
    this.onEvent?.(event, receivedAt);
    if (!event.type.startsWith("EXECUTION_") || event.executionId === null) return;
    if (
      !["EXECUTION_SUCCEEDED", "EXECUTION_FAILED", "EXECUTION_STOPPED", "EXECUTION_CANCELLED"].includes(
        event.type,
      )
    )
      return;
    this.ended.set(event.executionId, { type: event.type, receivedAt, at: event.at });
    this.waiters.get(event.executionId)?.();
  }

  async end(
    executionId: string,
    timeoutMs = 60_000,
  ): Promise<{ type: string; receivedAt: number; at: string }> {
    if (!this.ended.has(executionId)) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`execution ${executionId} did not end`)), timeoutMs);
        this.waiters.set(executionId, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters.delete(executionId);
    }
    return this.ended.get(executionId)!;
  }
}

/** Spawn → bash running: the same argv as the Shell provider, timed from this process. */
async function bashFloor(samples: number): Promise<Summary> {
  const dir = tempDir();
  const script = path.join(dir, "commands.sh");
  fs.writeFileSync(script, `${STAMP}\n`);
  const values: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const started = nowMs();
      const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { detached: true });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      await new Promise((resolve) => child.once("close", resolve));
      values.push(Number(out.trim()) * 1000 - started);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return summarize(values, 3);
}

export interface ChainRun {
  executionId: string;
  /** releaseChange sent → EXECUTION_SUCCEEDED received on the subscription. */
  wallMs: number;
  /** The execution's own startTime → endTime (server clock, ms). */
  serverMs: number;
  /** Per action: queuedAt → bash's $EPOCHREALTIME. */
  latenciesMs: number[];
  /** queuedAt → the agent's "job accepted" log line (accept stored, job +ACKed). */
  toAcceptMs: number[];
  /** "job accepted" → bash running (heartbeat, workspace, input artifact, environment, spawn). */
  acceptToProcessMs: number[];
  /** queuedAt → the attempt's startTime (the engine's clock when it processed the accept). */
  toEngineAcceptMs: number[];
  /** bash running → the next stage's action queuedAt (the run, its log, the complete, the engine). */
  processToNextMs: number[];
}

/**
 * Scenario 3: dispatch latency (long-poll agents and a polling agent), throughput with 4 agent
 * processes, a 10-stage pipeline's wall time and a 100 MB artifact round trip, on one server
 * process with agents as separate processes.
 */
export async function runDispatch(options: DispatchOptions): Promise<BenchResult> {
  // The notification comparison posts to a receiver in this process (plain HTTP, loopback).
  const server = await startChildServer({
    env: { SLUICE_NOTIFY_ALLOW_HTTP: "true", SLUICE_NOTIFY_ALLOW_PRIVATE: "true" },
  });
  const http = new GraphQLHttpClient(server.url, server.token);
  const agents: AgentProcess[] = [];
  let ws: Client | null = null;
  try {
    const { createAgentToken } = await http.data<{ createAgentToken: { token: string } }>(
      `mutation { createAgentToken(description: "bench dispatch") { token } }`,
    );
    await http.data(
      `mutation { createCustomActionType(input: { category: "Source", provider: "Noop", version: "1",
        inputArtifactDetails: { minimumCount: 0, maximumCount: 0 }, outputArtifactDetails: { minimumCount: 1, maximumCount: 1 } }) { id { provider } } }`,
    );
    const acceptedAt = new Map<string, number>();
    const common = {
      acceptedAt,
      token: createAgentToken.token,
      serverUrl: server.url,
      prefix: server.natsPrefix,
      providers: "Build/Sluice/Shell@1",
      // An empty output directory makes an archive the download refuses (see the notes): one small file.
      handlers: [`Source/Custom/Noop@1=${STAMP}; echo noop > "$SLUICE_OUTPUT_DIR_Src/noop"`],
    };
    for (let i = 1; i <= options.agents; i++) {
      agents.push(startAgentProcess({ ...common, name: `push-${i}`, concurrency: options.concurrency }));
    }
    const poller = startAgentProcess({
      ...common,
      name: "poll-1",
      pool: "poll",
      concurrency: 1,
      pollIntervalMs: options.pollIntervalMs,
    });
    agents.push(poller);
    await waitOnline(
      async () =>
        (await http.data<{ agents: Array<{ name: string; status: string }> }>(`{ agents { name status } }`))
          .agents,
      agents,
    );
    log(`dispatch: ${options.agents} agents (concurrency ${options.concurrency}) and 1 polling agent online`);

    const router = new EventRouter();
    const wsErrors: string[] = [];
    ws = createClient({
      url: server.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${server.token}` },
      retryAttempts: 0,
    });
    let subscribed!: () => void;
    const firstEvent = new Promise<void>((resolve) => (subscribed = resolve));
    ws.subscribe<{ pipelineEvents: PipelineEvent }>(
      { query: EVENTS, variables: { name: null } },
      {
        next: (value) => {
          const receivedAt = nowMs();
          const event = value.data?.pipelineEvents;
          if (event) {
            subscribed();
            router.take(event, receivedAt);
          }
        },
        // An Error, or the socket's CloseEvent (its code and reason are getters: not in JSON).
        error: (e) => {
          const close = e as { code?: number; reason?: string; message?: string };
          const what =
            close.message ??
            (close.code !== undefined
              ? `socket closed ${close.code} ${close.reason ?? ""}`.trim()
              : String(e));
          wsErrors.push(what);
          log(`dispatch: the event subscription failed: ${what}`);
        },
        complete: () => undefined,
      },
    );

    // The pipelines; each one's first execution starts by itself and warms the paths up.
    const pipelines = [
      chainPipeline("chain", 10, null),
      chainPipeline("chain-poll", 10, "poll"),
      ...Array.from({ length: options.throughputPipelines }, (_, i) =>
        widePipeline(`wide-${i + 1}`, options.throughputWidth),
      ),
    ];
    for (const p of pipelines) {
      await http.data(CREATE, { input: p });
      if (p.name === "chain") await Promise.race([firstEvent, sleep(5000)]);
    }
    for (const p of pipelines) await waitIdle(http, p.name, 120_000);
    log("dispatch: first executions done");

    const release = async (name: string) =>
      (await http.data<{ releaseChange: { id: string } }>(RELEASE, { name })).releaseChange.id;
    const runChain = async (name: string): Promise<ChainRun> => {
      const sent = nowMs();
      const id = await release(name);
      const end = await router.end(id, 120_000);
      if (end.type !== "EXECUTION_SUCCEEDED") throw new Error(`${name} ${id} ended ${end.type}`);
      return {
        executionId: id,
        wallMs: end.receivedAt - sent,
        serverMs: 0,
        latenciesMs: [],
        toAcceptMs: [],
        acceptToProcessMs: [],
        toEngineAcceptMs: [],
        processToNextMs: [],
      };
    };

    // 1. Push agents: 10 dispatches per execution, one at a time, then the timestamps.
    const floor = await bashFloor(100);
    log(`dispatch: spawn → bash running ${floor.p50} ms (p50)`);
    for (let i = 0; i < 3; i++) await runChain("chain");
    const quiet = await waitForQuiet(server.pid);
    const pushCpu = new OthersCpu(server.pid);
    const pushRuns: ChainRun[] = [];
    for (let i = 0; i < options.pushRuns; i++) pushRuns.push(await runChain("chain"));
    const pushOthers = pushCpu.read();
    log(`dispatch: ${pushRuns.length} executions of chain; reading their logs`);
    for (const run of pushRuns) await readTimes(http, run, acceptedAt);
    const push = summarize(pushRuns.flatMap((r) => r.latenciesMs));
    const wall = summarize(pushRuns.map((r) => r.wallMs));
    const serverWall = summarize(pushRuns.map((r) => r.serverMs));
    const breakdown = {
      dispatchToAgentAcceptedMs: summarize(pushRuns.flatMap((r) => r.toAcceptMs)),
      agentAcceptedToProcessMs: summarize(pushRuns.flatMap((r) => r.acceptToProcessMs)),
      dispatchToEngineAcceptMs: summarize(pushRuns.flatMap((r) => r.toEngineAcceptMs)),
      processToNextDispatchMs: summarize(pushRuns.flatMap((r) => r.processToNextMs)),
    };
    log(`dispatch: push latency ${JSON.stringify(push)}; 10-stage wall ${JSON.stringify(wall)}`);
    log(`dispatch: breakdown ${JSON.stringify(breakdown)}`);

    // 2. The polling agent: the same pipeline on its pool.
    const pollRuns: ChainRun[] = [];
    for (let i = 0; i < options.pollRuns; i++) pollRuns.push(await runChain("chain-poll"));
    for (const run of pollRuns) await readTimes(http, run, acceptedAt);
    const poll = summarize(pollRuns.flatMap((r) => r.latenciesMs));
    const pollWall = summarize(pollRuns.map((r) => r.wallMs));
    log(`dispatch: poll latency ${JSON.stringify(poll)}`);

    // 3. Throughput: every wide pipeline keeps executions in flight; actions counted by their `at`.
    const wide = pipelines.filter((p) => p.name.startsWith("wide-")).map((p) => p.name);
    let started = Date.now();
    const measureThroughput = async (label: string, warmupS = options.warmupS, windowS = options.windowS) => {
      const succeeded: number[] = [];
      let executionsEnded = 0;
      let failures = 0;
      let releasing = true;
      const inFlight = new Set<string>();
      router.onEvent = (event) => {
        if (!event.pipelineName.startsWith("wide-")) return;
        if (event.type === "ACTION_SUCCEEDED") succeeded.push(Date.parse(event.at));
        if (event.type === "ACTION_FAILED") failures++;
        if (
          event.executionId &&
          inFlight.has(event.executionId) &&
          /^EXECUTION_(SUCCEEDED|FAILED|STOPPED)/.test(event.type)
        ) {
          inFlight.delete(event.executionId);
          executionsEnded++;
          if (releasing)
            void release(event.pipelineName).then(
              (id) => inFlight.add(id),
              () => failures++,
            );
        }
      };
      await waitForQuiet(server.pid);
      started = Date.now();
      for (const name of wide) {
        for (let i = 0; i < options.throughputInFlight; i++) inFlight.add(await release(name));
      }
      await sleep(warmupS * 1000);
      const windowStart = Date.now();
      const cpuBefore = cpuSnapshot(server.pid, agents);
      const transactionsBefore = await server.database.transactions();
      await sleep(windowS * 1000);
      const windowEnd = Date.now();
      const cpuAfter = cpuSnapshot(server.pid, agents);
      const transactions = (await server.database.transactions()) - transactionsBefore;
      releasing = false;
      const drainDeadline = Date.now() + 60_000;
      while (inFlight.size > 0 && Date.now() < drainDeadline) await sleep(100);
      router.onEvent = null;
      const inWindow = succeeded.filter((t) => t >= windowStart && t < windowEnd).length;
      const throughput = Math.round((inWindow / ((windowEnd - windowStart) / 1000)) * 10) / 10;
      const cpu = cpuDelta(cpuBefore, cpuAfter, windowEnd - windowStart, inWindow);
      log(
        `dispatch: throughput ${label} ${throughput} actions/s (${inWindow} in ${windowEnd - windowStart} ms); CPU ${JSON.stringify(cpu)}`,
      );
      // PostgreSQL round trips that commit (a statement alone, or a transaction) per action.
      const pgTransactionsPerAction = inWindow > 0 ? Math.round((transactions / inWindow) * 10) / 10 : 0;
      return {
        throughput,
        inWindow,
        windowMs: windowEnd - windowStart,
        executionsEnded,
        failures,
        cpu,
        pgTransactionsPerAction,
      };
    };
    const base = await measureThroughput("without notifications");
    const { throughput, inWindow, windowMs, executionsEnded, failures, cpu, pgTransactionsPerAction } = base;

    // 3b. The same with a notification rule on every wide pipeline (every execution that succeeds:
    // #14's "executions finishing, a rule on each"; until 2026-12-07 the rule also matched every
    // action, 1.25 deliveries per action instead of 0.2, which cost 25 %), delivered to a webhook
    // receiver in this process: what notifying costs.
    let notified: NotifiedThroughput | null = null;
    if (options.notifyCompare) {
      const receiver = await startReceiver();
      try {
        const { createNotificationTarget } = await http.data<{ createNotificationTarget: { id: string } }>(
          `mutation ($t: NotificationTargetInput!) { createNotificationTarget(target: $t) { id } }`,
          { t: { name: "bench-receiver", kind: "WEBHOOK", url: receiver.url } },
        );
        const rules: Array<{ id: string; input: Record<string, unknown> }> = [];
        for (const name of wide) {
          const input = {
            name: `bench-${name}`,
            pipelineName: name,
            eventTypes: ["EXECUTION_SUCCEEDED"],
            targetIds: [createNotificationTarget.id],
            enabled: false,
          };
          const { createNotificationRule } = await http.data<{ createNotificationRule: { id: string } }>(
            `mutation ($r: NotificationRuleInput!) { createNotificationRule(rule: $r) { id } }`,
            { r: input },
          );
          rules.push({ id: createNotificationRule.id, input });
        }
        const setRules = async (enabled: boolean) => {
          for (const rule of rules) {
            await http.data(
              `mutation ($id: ID!, $r: NotificationRuleInput!) { updateNotificationRule(id: $id, rule: $r) { id } }`,
              { id: rule.id, r: { ...rule.input, enabled } },
            );
          }
        };
        // Deliveries of what a window finished may still be on their way: wait until the server
        // has none left (no inbox row, no PENDING delivery), so that the next window (muted or
        // not) does not pay for them.
        const settle = async () => {
          const deadline = Date.now() + 120_000;
          while ((await server.database.undeliveredNotifications()) > 0) {
            if (Date.now() > deadline) throw new Error("notifications still undelivered after 120 s");
            await sleep(100);
          }
        };
        const before = receiver.count();
        const rounds: NotifiedThroughput["rounds"] = [];
        let failures = 0;
        for (let round = 0; round < options.notifyRounds; round++) {
          const order = round % 2 === 0 ? [false, true] : [true, false];
          const measured: Record<string, number> = {};
          for (const enabled of order) {
            await setRules(enabled);
            const m = await measureThroughput(
              `round ${round + 1}, ${enabled ? "with" : "without"} notification rules`,
              options.notifyWarmupS,
              options.notifyWindowS,
            );
            failures += m.failures;
            measured[enabled ? "with" : "without"] = m.throughput;
            if (enabled) await settle();
          }
          rounds.push({
            order: order.map((on) => (on ? "with" : "without")).join(" → "),
            without: measured.without!,
            with: measured.with!,
            ratio: Math.round((measured.with! / measured.without!) * 1000) / 1000,
          });
        }
        await setRules(false);
        notified = {
          throughput: Math.round(median(rounds.map((r) => r.with)) * 10) / 10,
          without: Math.round(median(rounds.map((r) => r.without)) * 10) / 10,
          ratio: Math.round(median(rounds.map((r) => r.ratio)) * 1000) / 1000,
          rounds,
          delivered: receiver.count() - before,
          failures,
        };
        log(`dispatch: notification cost, rounds ${JSON.stringify(rounds)}; median ratio ${notified.ratio}`);
      } finally {
        await receiver.close();
      }
    }

    // 4. Artifacts through the agent's store and the server's job artifact routes, in this process.
    const nc = await connectNats("sluice-bench-artifacts");
    let artifacts: ArtifactFigures;
    try {
      artifacts = await measureArtifacts(
        server,
        nc,
        natsNames(server.natsPrefix).artifactsBucket,
        options.artifactMB,
        options.artifactRepeats,
      );
    } finally {
      await nc.close();
    }

    return result(options, {
      push,
      poll,
      wall,
      serverWall,
      pollWall,
      floor,
      breakdown,
      throughput,
      inWindow,
      windowMs,
      executionsEnded,
      failures,
      pgTransactionsPerAction,
      notified,
      totalS: Math.round((Date.now() - started) / 1000),
      cpu,
      artifacts,
      quiet,
      pushOthersShare: Math.round(pushOthers.othersShareOfCore * 100) / 100,
      wsErrors,
      pushRaw: pushRuns.flatMap((r) => r.latenciesMs).map((x) => Math.round(x * 100) / 100),
      pollRaw: pollRuns.flatMap((r) => r.latenciesMs).map((x) => Math.round(x * 100) / 100),
    });
  } finally {
    await ws?.dispose();
    http.close();
    await Promise.all(agents.map((a) => a.stop()));
    await server.stop();
  }
}

/** Waits until the pipeline's latest execution has ended. */
export async function waitIdle(http: GraphQLHttpClient, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const data = await http.data<{
      pipeline: { executions: { nodes: Array<{ status: string; statusSummary: string | null }> } };
    }>(EXECUTIONS, {
      name,
    });
    const latest = data.pipeline.executions.nodes[0];
    const status = latest?.status;
    if (status === "Succeeded") return;
    if (status && status !== "InProgress")
      throw new Error(`${name}: first execution ${status}: ${latest?.statusSummary}`);
    if (Date.now() > deadline) throw new Error(`${name}: first execution did not end`);
    await sleep(200);
  }
}

/** Each action's queuedAt and the $EPOCHREALTIME its process printed (the first stdout line). */
export async function readTimes(
  http: GraphQLHttpClient,
  run: ChainRun,
  acceptedAt: ReadonlyMap<string, number>,
): Promise<void> {
  const { pipelineExecution: e } = await http.data<{
    pipelineExecution: {
      startTime: string;
      endTime: string;
      stages: Array<{
        actions: Array<{
          name: string;
          attempts: Array<{ id: string; queuedAt: string; startTime: string }>;
        }>;
      }>;
    };
  }>(ATTEMPTS, { id: run.executionId });
  run.serverMs = Date.parse(e.endTime) - Date.parse(e.startTime);
  let previousStamp: number | null = null;
  for (const action of e.stages.flatMap((s) => s.actions)) {
    const attempt = action.attempts[0]!;
    const { actionLog } = await http.data<{ actionLog: { nodes: Array<{ stream: string; text: string }> } }>(
      LOG,
      { id: attempt.id },
    );
    const line = actionLog.nodes.find((l) => l.stream === "stdout" && /^\d+\.\d+$/.test(l.text.trim()));
    if (!line) throw new Error(`no $EPOCHREALTIME in the log of ${action.name} (${attempt.id})`);
    const stamp = Number(line.text.trim()) * 1000;
    const queued = Date.parse(attempt.queuedAt);
    run.latenciesMs.push(stamp - queued);
    run.toEngineAcceptMs.push(Date.parse(attempt.startTime) - queued);
    const accepted = acceptedAt.get(attempt.id);
    if (accepted !== undefined) {
      run.toAcceptMs.push(accepted - queued);
      run.acceptToProcessMs.push(stamp - accepted);
    }
    if (previousStamp !== null) run.processToNextMs.push(queued - previousStamp);
    previousStamp = stamp;
  }
}

interface CpuSnapshot {
  machine: number;
  server: number;
  agents: number;
  bench: number;
  services: number;
}

/** CPU of the agents includes the bash processes they ran, once those were reaped (cutime/cstime). */
export function cpuSnapshot(serverPid: number, agents: AgentProcess[]): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    machine: machineBusyCpuMs(),
    server: cpuMs(serverPid),
    agents: agents.reduce((sum, a) => sum + cpuWithChildrenMs(a.pid), 0),
    bench: (usage.user + usage.system) / 1000,
    services: processesCpuMs(SERVICES),
  };
}

function cpuWithChildrenMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return 0;
  }
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot, wallMs: number, actions: number) {
  const per = (x: number) => Math.round((x / Math.max(1, actions)) * 100) / 100;
  const machine = b.machine - a.machine;
  const server = b.server - a.server;
  const agents = b.agents - a.agents;
  const bench = b.bench - a.bench;
  const services = b.services - a.services;
  return {
    machineBusyShareOf2Cores: Math.round((machine / wallMs / machineFacts().cpus) * 100) / 100,
    msPerAction: {
      all: per(machine),
      server: per(server),
      agentsWithTheirProcesses: per(agents),
      postgresAndNats: per(services),
      bench: per(bench),
      other: per(Math.max(0, machine - server - agents - services - bench)),
    },
  };
}

interface Measured {
  push: Summary;
  poll: Summary;
  wall: Summary;
  serverWall: Summary;
  pollWall: Summary;
  floor: Summary;
  breakdown: Record<
    | "dispatchToAgentAcceptedMs"
    | "agentAcceptedToProcessMs"
    | "dispatchToEngineAcceptMs"
    | "processToNextDispatchMs",
    Summary
  >;
  throughput: number;
  inWindow: number;
  windowMs: number;
  executionsEnded: number;
  failures: number;
  /** PostgreSQL transactions (each lone statement is one) per action in the throughput window. */
  pgTransactionsPerAction: number;
  notified: NotifiedThroughput | null;
  totalS: number;
  cpu: ReturnType<typeof cpuDelta>;
  artifacts: ArtifactFigures;
  quiet: { waitedS: number; quiet: boolean };
  pushOthersShare: number;
  wsErrors: string[];
  pushRaw: number[];
  pollRaw: number[];
}

function result(o: DispatchOptions, m: Measured): BenchResult {
  const a = m.artifacts;
  const ratio = Math.round((m.poll.p50 / m.push.p50) * 10) / 10;
  const figures: Figure[] = [
    {
      label: "dispatch → action's process running, p50",
      value: m.push.p50,
      unit: "ms",
      goalMax: 5,
      note: "attempt `queuedAt` to the `$EPOCHREALTIME` its bash printed",
    },
    { label: "dispatch → action's process running, p95", value: m.push.p95, unit: "ms" },
    { label: "dispatch → action's process running, p99", value: m.push.p99, unit: "ms", goalMax: 12 },
    {
      label: `polling agent (every ${o.pollIntervalMs / 1000} s), p50`,
      value: m.poll.p50,
      unit: "ms",
    },
    { label: "polling agent, p95", value: m.poll.p95, unit: "ms" },
    { label: "polling agent, p99", value: m.poll.p99, unit: "ms" },
    { label: "polling ÷ long-poll, p50", value: ratio, unit: "×" },
    {
      label: `throughput, ${o.agents} agent processes × concurrency ${o.concurrency}`,
      value: m.throughput,
      unit: "actions/s",
      goalMin: 250,
      note: `no-op actions completed per second over ${o.windowS} s after ${o.warmupS} s of warm-up`,
    },
    {
      label: "CPU per no-op action in that window: server, agents with their processes, PostgreSQL and NATS",
      value:
        Math.round(
          (m.cpu.msPerAction.server +
            m.cpu.msPerAction.agentsWithTheirProcesses +
            m.cpu.msPerAction.postgresAndNats) *
            100,
        ) / 100,
      unit: "ms",
      goalMax: 8,
      note: `the bench process (${m.cpu.msPerAction.bench} ms) and the machine's other processes (${m.cpu.msPerAction.other} ms) left out`,
    },
    {
      label: "PostgreSQL transactions per no-op action in that window",
      value: m.pgTransactionsPerAction,
      unit: "transactions",
      note: "pg_stat_database commits and rollbacks of the server's database ÷ actions; a statement outside a transaction counts as one",
    },
    ...(m.notified
      ? [
          {
            label: "throughput with a notification rule on every pipeline, median",
            value: m.notified.throughput,
            unit: "actions/s",
            note: `median of ${m.notified.rounds.length} ${o.notifyWindowS} s windows, interleaved with as many with the rules muted (median ${m.notified.without}); ${m.notified.delivered} webhook deliveries (every execution that succeeded) to a receiver in the bench process`,
          },
          {
            label: "throughput with notifications ÷ without, median of rounds",
            value: m.notified.ratio,
            unit: "×",
            goalMin: 0.95,
            note: `each round one window muted and one on, alternating which goes first: ${m.notified.rounds.map((r) => r.ratio).join(", ")}`,
          },
        ]
      : []),
    {
      label: "10-stage pipeline, release → Succeeded, median",
      value: m.wall.p50,
      unit: "ms",
      goalMax: 100,
      note: "releaseChange sent to EXECUTION_SUCCEEDED received on the subscription",
    },
    { label: "10-stage pipeline, p95", value: m.wall.p95, unit: "ms" },
    {
      label: `artifact round trip, ${a.sizeMB} MB random data`,
      value: a.random.roundTripMBps,
      unit: "MB/s",
      goalMin: 120,
      note: "agent's store: tar + gzip (level chosen per artifact) + SHA-256 + object store, and back, verified while unpacking",
    },
    {
      label: `artifact round trip, ${a.sizeMB} MB compressible data`,
      value: a.compressible.roundTripMBps,
      unit: "MB/s",
      goalMin: 150,
    },
    {
      label: "raw object store put (no tar, no gzip), native SHA-256",
      value: a.rawNative.putMBps,
      unit: "MB/s",
    },
    { label: "raw object store get, native SHA-256", value: a.rawNative.getMBps, unit: "MB/s" },
  ];
  const pushDispatches = o.pushRuns * 10;
  const pollDispatches = o.pollRuns * 10;
  return {
    name: "dispatch",
    title: `Agents: dispatch latency, throughput, a 10-stage pipeline, 100 MB artifacts`,
    date: new Date().toISOString(),
    machine: machineFacts(),
    parameters: {
      server: `${process.env.BENCH_SERVER_MAIN ? `${process.env.BENCH_SERVER_MAIN} (BENCH_SERVER_MAIN)` : "server/dist/src/main.js"} as a child process, PostgreSQL, NATS JetStream, LOG_LEVEL=info`,
      agents: `${o.agents} agent processes (agent/dist/src/main.js), concurrency ${o.concurrency} each, pool default, long-poll; 1 polling agent process (--poll-interval-ms ${o.pollIntervalMs}, concurrency 1) on pool poll`,
      noopAction: `Build/Sluice/Shell@1 with Commands \`${STAMP}\`; the Source stage is Source/Custom/Noop@1, a handler running \`${STAMP}\` that writes one 5-byte file as the output artifact Src, which every Shell action takes as its input (Shell actions need one)`,
      latencyPipeline:
        "chain: Source + 9 stages of one no-op Shell action each (10 dispatches per execution, one at a time)",
      latencyDispatches: { longPoll: pushDispatches, polling: pollDispatches },
      throughput: `${o.throughputPipelines} PARALLEL pipelines of Source → ${o.throughputWidth} parallel no-op Shell actions (Commands \`true\`), ${o.throughputInFlight} executions in flight each, a new one released as each ends`,
      artifacts: `${a.sizeMB} MB (10^6 bytes) in one file, median of ${a.repeats}, in the bench process with setSha256Backend("native")`,
    },
    figures,
    notes: [
      `The two timestamps. Start: the attempt's \`queuedAt\` (ActionAttempt.queuedAt; the job message's \`dispatchedAt\` is the same instant) is the engine's clock read in the dispatching transaction before it writes the runtime, views, events and outbox row and commits, in whole ms: it is early by the rest of that transaction (about 1–3 ms here) plus up to 1 ms of truncation, so the latency is overstated by that much. End: \`$EPOCHREALTIME\` is read by bash after fork, exec and its own start-up; from the bench, spawning the Shell provider's exact command line to the time it prints takes ${m.floor.p50} ms at the median (p95 ${m.floor.p95} ms), so the figure also includes that much after the agent called spawn. Both clocks are this machine's.`,
      `What a dispatch goes through (long-poll agents): the commit, the outbox relay (kicked after the commit; it reads the row, publishes to JetStream, deletes the row), JetStream delivering to the pull an idle agent keeps waiting, the agent's cancel check (a direct get; the workspace is made meanwhile), the accept (a JetStream publish, awaited), the +ACK (sent with the first job heartbeat in one write; its confirmation is not awaited), the input artifact (every Shell action needs one: the agent asks the server's job artifact route for it with the job's lease token, right after its accept is stored and before the server has applied it; the server checks the agent token and the attempt in PostgreSQL and reads the 5-byte archive with two direct gets, its metadata and its one chunk, which the agent verifies and unpacks from memory; the two direct gets alone, as the bench process times them, take ${a.tinyDownloadMs.p50} ms at the median), the environment and commands file, and the spawn (${m.floor.p50} ms). Split at the agent's "job accepted" log line (its clock, ms): \`queuedAt\` → accept stored and job +ACK sent ${m.breakdown.dispatchToAgentAcceptedMs.p50} ms at the median (p99 ${m.breakdown.dispatchToAgentAcceptedMs.p99} ms), then → bash running ${m.breakdown.agentAcceptedToProcessMs.p50} ms (p99 ${m.breakdown.agentAcceptedToProcessMs.p99} ms). NATS round trips are 0.25–0.5 ms each here and a PostgreSQL commit 0.14 ms (STACK.md): what is left is the server's and the agent's JavaScript between those steps, on 2 cores shared with PostgreSQL, NATS and whatever else runs.`,
      `The polling agent asks for work every ${o.pollIntervalMs} ms (a consumer info request the server answers at once, then a pull only when a job is waiting), as GitLab Runner and GoCD agents do. p50 ${m.poll.p50} ms against ${m.push.p50} ms: ${ratio} × slower at the median (p99 ${m.poll.p99} ms, ${m.poll.n} dispatches). In a chain of stages a job is dispatched just after the previous one ended, and the polling agent asks again as soon as its slot frees, a few ms before that dispatch: so nearly every job waits a whole interval, not the half interval a job arriving at a random time would wait. Its 10-stage pipeline took ${m.pollWall.p50} ms at the median against ${m.wall.p50} ms.`,
      `Throughput: ${m.inWindow} no-op actions succeeded in ${Math.round(m.windowMs / 100) / 10} s (counted by their ACTION_SUCCEEDED event's \`at\`), ${m.executionsEnded} executions ended during the run, ${m.failures} actions failed. Every action is the whole protocol (job, accept, +ACK, heartbeat, log chunk, complete, three engine transactions with their events) plus an object-store get of the input, a workspace made and removed, and a bash process; each Source action also packs and uploads its artifact. The machine was ${Math.round(m.cpu.machineBusyShareOf2Cores * 100)} % busy on both cores, so the figure is CPU-bound: per action the agents with their bash processes used ${m.cpu.msPerAction.agentsWithTheirProcesses} ms of CPU, the server ${m.cpu.msPerAction.server} ms, PostgreSQL and NATS ${m.cpu.msPerAction.postgresAndNats} ms, the bench ${m.cpu.msPerAction.bench} ms and other processes on the machine ${m.cpu.msPerAction.other} ms: ${m.cpu.msPerAction.all} ms in all, which caps 2 cores near ${Math.round(2000 / Math.max(0.01, m.cpu.msPerAction.all))} actions/s. CPU profiles (BENCH_AGENT_NODE_ARGS / BENCH_SERVER_NODE_ARGS, README.md) put about 15 % of the agents' time each in socket writes to NATS (one per protocol step) and child_process.spawn (forking the agent's Node process and waiting for the exec), then the workspace's directory operations (on the disk PostgreSQL and NATS write to), garbage collection, zod and tar; the server's in socket writes (writev), pg and TypeORM, decide() and the views. Against the goal of 8 ms per action in all, the agents alone use ${m.cpu.msPerAction.agentsWithTheirProcesses} ms and the server ${m.cpu.msPerAction.server} ms: a no-op action's cost is spread over per-step messages (each a socket write and a wake-up in two or three processes) and the two processes an agent starts per job. Spawning \`bash -c true\` alone tops out at 716/s four at a time (STACK.md).`,
      `10-stage pipeline: median ${m.wall.p50} ms, p95 ${m.wall.p95} ms over ${m.wall.n} executions, measured at the client (releaseChange sent → EXECUTION_SUCCEEDED on a graphql-ws subscription); the execution's own startTime → endTime is ${m.serverWall.p50} ms at the median. Each stage is one dispatch (above, p50 ${m.push.p50} ms) plus the action's run up to the next stage's dispatch: bash running → next \`queuedAt\` ${m.breakdown.processToNextDispatchMs.p50} ms at the median (bash, its log chunk, the output check, the complete, the engine's transaction).`,
      `Artifacts, MB/s of input: random data upload ${a.random.uploadMBps}, download ${a.random.downloadMBps} (archive ${Math.round(a.random.archiveBytes / 1e6)} MB); compressible data upload ${a.compressible.uploadMBps}, download ${a.compressible.downloadMBps} (archive ${Math.round(a.compressible.archiveBytes / 1e6)} MB). The store samples each artifact's largest files: the random data is stored in gzip's uncompressed blocks (level 0), the compressible data deflated at level 1, in blocks of 1 MiB on the thread pool, several at once, into one gzip stream; chunks of up to 1 MiB are published 8 at a time and read back with 8 direct gets in flight, unpacked as they arrive into a staging directory and checked against the SHA-256 before it reaches the destination. The same random data with compressionLevel 1 forced: ${a.randomLevel1.uploadMBps} / ${a.randomLevel1.downloadMBps}; level 0 forced: ${a.randomLevel0.uploadMBps} / ${a.randomLevel0.downloadMBps}, round trip ${a.randomLevel0.roundTripMBps}. The raw object store (nats.js's put and get, 128 KiB chunks one at a time) moves ${a.rawNative.putMBps} MB/s in and ${a.rawNative.getMBps} MB/s out with the native SHA-256 (${a.rawPureJsSha.putMBps} / ${a.rawPureJsSha.getMBps} with nats.js's default pure-JS one). gzip level 6 alone, in one thread, runs at ${a.gzipMBps.random} MB/s on the random and ${a.gzipMBps.compressible} MB/s on the compressible data, SHA-256 at ${a.sha256NativeMBps} MB/s. What limits the round trip: a round trip is an upload then a download, so it is no faster than 1 / (1 / upload + 1 / download); even at the raw object store's own rates (its put, then its get) that would be ${Math.round(10 / (1 / a.rawNative.putMBps + 1 / a.rawNative.getMBps)) / 10} MB/s on this machine, under the goals of 120 and 150. The upload runs at ${Math.round((a.random.uploadMBps / a.rawNative.putMBps) * 100)} % of the raw put (the bytes also cross the server's HTTP route, and the agent packs and hashes them); the download at ${Math.round((a.random.downloadMBps / a.rawNative.getMBps) * 100)} % of the raw get (the same bytes then also cross the server's HTTP route, and the agent checks, unpacks and writes them into the staging directory as they come).`,
      `Idle-machine check before the latency runs: ${m.quiet.quiet ? `quiet after ${m.quiet.waitedS} s` : "the machine did not get quiet"}; other processes used ${Math.round(m.pushOthersShare * 100)} % of a core during them.${m.wsErrors.length ? ` Subscription errors: ${m.wsErrors.join("; ")}.` : ""}`,
    ],
    details: {
      longPollLatencyMs: m.push,
      pollingLatencyMs: m.poll,
      tenStageWallMs: m.wall,
      tenStageServerMs: m.serverWall,
      tenStagePollingWallMs: m.pollWall,
      spawnToBashRunningMs: m.floor,
      longPollBreakdown: m.breakdown,
      throughput: {
        actionsPerSecond: m.throughput,
        actionsInWindow: m.inWindow,
        windowMs: m.windowMs,
        executionsEnded: m.executionsEnded,
        failures: m.failures,
        cpu: m.cpu,
        totalSeconds: m.totalS,
        withNotificationRules: m.notified,
      },
      artifacts: a,
      raw: { longPollLatencyMs: m.pushRaw, pollingLatencyMs: m.pollRaw },
    },
  };
}
