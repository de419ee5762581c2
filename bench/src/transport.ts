import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { startAgentProcess, waitOnline, type AgentProcess } from "./agents";
import {
  CREATE,
  EVENTS,
  EventRouter,
  RELEASE,
  STAMP,
  chainPipeline,
  cpuDelta,
  cpuSnapshot,
  median,
  readTimes,
  waitIdle,
  widePipeline,
  type ChainRun,
  type PipelineEvent,
} from "./dispatch";
import { log, machineFacts, tempDir } from "./env";
import { GraphQLHttpClient } from "./gql";
import { waitForQuiet } from "./quiet";
import type { BenchResult } from "./results";
import { running, startChildServer, type ChildServer } from "./server";
import { nowMs, sleep, summarize, type Summary } from "./stats";

/**
 * What the secured transport costs (issue #11): two stacks side by side, each a nats-server the
 * bench starts on a free port, a server process and agent processes. One plain (no credentials,
 * no TLS, `SLUICE_NATS_INSECURE=1`); one secured as `npm start` runs it: the installation's NATS
 * identity (decentralized JWT; every agent on short-lived credentials of its own) and TLS with a
 * certificate from the installation's local CA, both written by the server's own
 * `nats-config.js --tls-generate`. In interleaved rounds (ABBA), dispatch latency (a chain of
 * no-op stages, one dispatch at a time) and throughput (PARALLEL pipelines of parallel no-op
 * actions) on one stack, then the other; the figure is the median of the rounds' ratios,
 * secured ÷ plain.
 */
export interface TransportOptions {
  rounds: number;
  /** Sequential executions of the 10-stage chain per side and round (10 dispatches each). */
  latencyRuns: number;
  agents: number;
  concurrency: number;
  pipelines: number;
  width: number;
  inFlight: number;
  warmupS: number;
  windowS: number;
}

const NATS_CONFIG = require.resolve("@sluice/server/dist/src/nats-config.js");

function findNatsServer(): string {
  for (const dir of [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/bin"]) {
    const candidate = path.join(dir, "nats-server");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error("nats-server is not installed (apt-get install nats-server)");
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listening(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}):\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}:\n${output()}`);
    await sleep(50);
  }
}

interface NatsServerProcess {
  url: string;
  pid: number;
  /** The secured one: the local CA clients trust, and the data directory holding the identity. */
  caFile?: string;
  dataDir?: string;
  stop(): Promise<void>;
}

/** A nats-server of the bench's own: plain (`-js`), or secured with the configuration Sluice writes. */
async function startNats(secured: boolean): Promise<NatsServerProcess> {
  const bin = findNatsServer();
  const port = await freePort();
  const dir = tempDir();
  let args: string[];
  let dataDir: string | undefined;
  if (secured) {
    dataDir = path.join(dir, "data");
    const configFile = path.join(dir, "nats-server.conf");
    // As npm start does (scripts/ensure-services.mjs): identity, local CA, certificate, configuration.
    execFileSync(
      process.execPath,
      [
        NATS_CONFIG,
        "--listen", `127.0.0.1:${port}`,
        "--store", path.join(dir, "store"),
        "--resolver", path.join(dir, "jwt"),
        "--tls-generate",
        "--out", configFile,
      ], // prettier-ignore
      { env: { ...process.env, SLUICE_DATA_DIR: dataDir }, stdio: "pipe" },
    );
    args = ["-c", configFile];
  } else {
    args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", path.join(dir, "store")];
  }
  let out = "";
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const keep = (chunk: Buffer) => void (out = (out + chunk.toString()).slice(-10_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    running.delete(stop);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  running.add(stop);
  try {
    await listening(port, child, () => out);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `${secured ? "tls" : "nats"}://127.0.0.1:${port}`,
    pid: child.pid!,
    ...(secured ? { caFile: path.join(dataDir!, "tls", "ca.pem"), dataDir: dataDir! } : {}),
    stop,
  };
}

interface Stack {
  label: "plain" | "secured";
  nats: NatsServerProcess;
  server: ChildServer;
  http: GraphQLHttpClient;
  agents: AgentProcess[];
  acceptedAt: Map<string, number>;
  router: EventRouter;
  ws: Client;
  wide: string[];
}

async function startStack(label: Stack["label"], options: TransportOptions): Promise<Stack> {
  const secured = label === "secured";
  const nats = await startNats(secured);
  const natsEnv: Record<string, string> = secured
    ? { NATS_URL: nats.url, SLUICE_NATS_INSECURE: "0", SLUICE_NATS_CA_FILE: nats.caFile! }
    : { NATS_URL: nats.url, SLUICE_NATS_INSECURE: "1" };
  let server: ChildServer;
  try {
    server = await startChildServer({
      // The secured server uses the identity nats-config made: the same data directory.
      env: { ...natsEnv, ...(secured ? { SLUICE_DATA_DIR: nats.dataDir! } : {}) },
    });
  } catch (error) {
    await nats.stop();
    throw error;
  }
  const http = new GraphQLHttpClient(server.url, server.token);
  const agents: AgentProcess[] = [];
  const acceptedAt = new Map<string, number>();
  const router = new EventRouter();
  const ws = createClient({
    url: server.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${server.token}` },
    retryAttempts: 0,
  });
  const stack: Stack = { label, nats, server, http, agents, acceptedAt, router, ws, wide: [] };
  try {
    const { createAgentToken } = await http.data<{ createAgentToken: { token: string } }>(
      `mutation { createAgentToken(description: "bench transport") { token } }`,
    );
    await http.data(
      `mutation { createCustomActionType(input: { category: "Source", provider: "Noop", version: "1",
        inputArtifactDetails: { minimumCount: 0, maximumCount: 0 }, outputArtifactDetails: { minimumCount: 1, maximumCount: 1 } }) { id { provider } } }`,
    );
    for (let i = 1; i <= options.agents; i++) {
      agents.push(
        startAgentProcess({
          name: `${label}-${i}`,
          natsUrl: nats.url,
          token: createAgentToken.token,
          serverUrl: server.url,
          prefix: server.natsPrefix,
          concurrency: options.concurrency,
          providers: "Build/Sluice/Shell@1",
          handlers: [`Source/Custom/Noop@1=${STAMP}; echo noop > "$SLUICE_OUTPUT_DIR_Src/noop"`],
          acceptedAt,
          env: secured
            ? {
                SLUICE_NATS_INSECURE: "0",
                SLUICE_NATS_CA_FILE: nats.caFile!,
              }
            : {},
        }),
      );
    }
    await waitOnline(
      async () =>
        (await http.data<{ agents: Array<{ name: string; status: string }> }>(`{ agents { name status } }`))
          .agents,
      agents,
    );
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
        error: (e) => log(`transport (${label}): subscription error ${String((e as Error).message ?? e)}`),
        complete: () => undefined,
      },
    );
    const pipelines = [
      chainPipeline("chain", 10, null),
      ...Array.from({ length: options.pipelines }, (_, i) => widePipeline(`wide-${i + 1}`, options.width)),
    ];
    for (const p of pipelines) {
      await http.data(CREATE, { input: p });
      if (p.name === "chain") await Promise.race([firstEvent, sleep(5000)]);
    }
    for (const p of pipelines) await waitIdle(http, p.name, 120_000);
    stack.wide = pipelines.filter((p) => p.name.startsWith("wide-")).map((p) => p.name);
    log(`transport (${label}): ${options.agents} agents online on ${nats.url}, first executions done`);
    return stack;
  } catch (error) {
    await stopStack(stack);
    throw error;
  }
}

async function stopStack(stack: Stack): Promise<void> {
  await Promise.resolve(stack.ws.dispose()).catch(() => undefined);
  stack.http.close();
  await Promise.allSettled(stack.agents.map((a) => a.stop()));
  await stack.server.stop();
  await stack.nats.stop();
}

async function release(stack: Stack, name: string): Promise<string> {
  return (await stack.http.data<{ releaseChange: { id: string } }>(RELEASE, { name })).releaseChange.id;
}

/** Sequential executions of the chain: per action, `queuedAt` → its bash running and → accepted. */
async function measureLatency(stack: Stack, runs: number): Promise<ChainRun[]> {
  const done: ChainRun[] = [];
  for (let i = 0; i < runs; i++) {
    const sent = nowMs();
    const id = await release(stack, "chain");
    const end = await stack.router.end(id, 120_000);
    if (end.type !== "EXECUTION_SUCCEEDED") throw new Error(`chain ${id} ended ${end.type}`);
    done.push({
      executionId: id,
      wallMs: end.receivedAt - sent,
      serverMs: 0,
      latenciesMs: [],
      toAcceptMs: [],
      acceptToProcessMs: [],
      toEngineAcceptMs: [],
      processToNextMs: [],
    });
  }
  for (const run of done) await readTimes(stack.http, run, stack.acceptedAt);
  return done;
}

/** No-op actions succeeded per second over the window, every wide pipeline keeping executions in flight. */
async function measureThroughput(stack: Stack, options: TransportOptions) {
  const succeeded: number[] = [];
  let failures = 0;
  let releasing = true;
  const inFlight = new Set<string>();
  stack.router.onEvent = (event) => {
    if (!event.pipelineName.startsWith("wide-")) return;
    if (event.type === "ACTION_SUCCEEDED") succeeded.push(Date.parse(event.at));
    if (event.type === "ACTION_FAILED") failures++;
    if (
      event.executionId &&
      inFlight.has(event.executionId) &&
      /^EXECUTION_(SUCCEEDED|FAILED|STOPPED)/.test(event.type)
    ) {
      inFlight.delete(event.executionId);
      if (releasing)
        void release(stack, event.pipelineName).then(
          (id) => inFlight.add(id),
          () => failures++,
        );
    }
  };
  for (const name of stack.wide)
    for (let i = 0; i < options.inFlight; i++) inFlight.add(await release(stack, name));
  await sleep(options.warmupS * 1000);
  const windowStart = Date.now();
  const cpuBefore = cpuSnapshot(stack.server.pid, stack.agents);
  await sleep(options.windowS * 1000);
  const windowEnd = Date.now();
  const cpuAfter = cpuSnapshot(stack.server.pid, stack.agents);
  releasing = false;
  const drainDeadline = Date.now() + 60_000;
  while (inFlight.size > 0 && Date.now() < drainDeadline) await sleep(100);
  stack.router.onEvent = null;
  const inWindow = succeeded.filter((t) => t >= windowStart && t < windowEnd).length;
  return {
    throughput: Math.round((inWindow / ((windowEnd - windowStart) / 1000)) * 10) / 10,
    inWindow,
    failures,
    cpu: cpuDelta(cpuBefore, cpuAfter, windowEnd - windowStart, inWindow),
  };
}

interface Round {
  order: string;
  plain: { throughput: number; latencyP50: number };
  secured: { throughput: number; latencyP50: number };
  throughputRatio: number;
  latencyRatio: number;
}

export async function runTransport(options: TransportOptions): Promise<BenchResult> {
  const plain = await startStack("plain", options);
  let secured: Stack | null = null;
  try {
    secured = await startStack("secured", options);
    const stacks = { plain, secured };
    // Warm-up of both paths (JIT, connections, TLS sessions), not measured.
    for (const stack of [plain, secured]) await measureLatency(stack, 2);
    const quiet = await waitForQuiet(null);
    const latencies: Record<Stack["label"], number[]> = { plain: [], secured: [] };
    const accepts: Record<Stack["label"], number[]> = { plain: [], secured: [] };
    const cpus: Record<Stack["label"], Array<ReturnType<typeof cpuDelta>>> = { plain: [], secured: [] };
    const rounds: Round[] = [];
    let failures = 0;
    for (let round = 0; round < options.rounds; round++) {
      // ABBA: the order alternates, so a drift of the machine's load weighs on both sides.
      const order: Array<Stack["label"]> = round % 2 === 0 ? ["plain", "secured"] : ["secured", "plain"];
      const measured: Partial<Record<Stack["label"], { throughput: number; latencyP50: number }>> = {};
      for (const label of order) {
        const stack = stacks[label];
        const runs = await measureLatency(stack, options.latencyRuns);
        const latency = runs.flatMap((r) => r.latenciesMs);
        latencies[label].push(...latency);
        accepts[label].push(...runs.flatMap((r) => r.toAcceptMs));
        const t = await measureThroughput(stack, options);
        failures += t.failures;
        cpus[label].push(t.cpu);
        measured[label] = { throughput: t.throughput, latencyP50: summarize(latency).p50 };
        log(
          `transport: round ${round + 1}, ${label}: ${t.throughput} actions/s, dispatch → process running p50 ${measured[label].latencyP50} ms`,
        );
      }
      const p = measured.plain!;
      const s = measured.secured!;
      rounds.push({
        order: order.join(" → "),
        plain: p,
        secured: s,
        throughputRatio: Math.round((s.throughput / Math.max(0.1, p.throughput)) * 1000) / 1000,
        latencyRatio: Math.round((s.latencyP50 / Math.max(0.01, p.latencyP50)) * 1000) / 1000,
      });
    }
    const latency: Record<Stack["label"], Summary> = {
      plain: summarize(latencies.plain),
      secured: summarize(latencies.secured),
    };
    const toAccept: Record<Stack["label"], Summary> = {
      plain: summarize(accepts.plain),
      secured: summarize(accepts.secured),
    };
    const throughput = {
      plain: Math.round(median(rounds.map((r) => r.plain.throughput)) * 10) / 10,
      secured: Math.round(median(rounds.map((r) => r.secured.throughput)) * 10) / 10,
    };
    const ratio = Math.round(median(rounds.map((r) => r.throughputRatio)) * 1000) / 1000;
    const latencyRatio = Math.round(median(rounds.map((r) => r.latencyRatio)) * 1000) / 1000;
    const msPerAction = (label: Stack["label"]) =>
      Math.round(median(cpus[label].map((c) => c.msPerAction.all)) * 100) / 100;
    const dispatches = options.rounds * options.latencyRuns * 10;
    return {
      name: "transport",
      title: "Secured transport: dispatch latency and throughput with NATS credentials and TLS, and without",
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: {
        stacks:
          "two, side by side, each a nats-server started by the bench on a free port, a server process (server/dist/src/main.js) on a database of its own, and agent processes",
        plain: "nats-server -js, no authentication, no TLS; server and agents with SLUICE_NATS_INSECURE=1",
        secured:
          "nats-server configured by `nats-config.js --tls-generate` (decentralized JWT: the installation's operator and accounts, a full resolver; TLS with a certificate from the local CA, ECDSA P-256); the server on its own NATS user, each agent on one-hour credentials from `POST /agents/nats-credentials`, all over tls:// trusting the CA",
        agents: `${options.agents} agent processes per stack, concurrency ${options.concurrency}, long-poll`,
        latency: `per side and round, ${options.latencyRuns} sequential executions of a 10-stage chain (Source + 9 no-op Shell actions): ${dispatches} dispatches per side in all`,
        throughput: `${options.pipelines} PARALLEL pipelines of Source → ${options.width} parallel no-op Shell actions, ${options.inFlight} executions in flight each; no-op actions succeeded per second over ${options.windowS} s after ${options.warmupS} s of warm-up`,
        rounds: options.rounds,
      },
      figures: [
        {
          label: "dispatch → action's process running, p50, plain",
          value: latency.plain.p50,
          unit: "ms",
        },
        {
          label: "dispatch → action's process running, p50, credentials + TLS",
          value: latency.secured.p50,
          unit: "ms",
        },
        { label: "dispatch → process running, p99, plain", value: latency.plain.p99, unit: "ms" },
        {
          label: "dispatch → process running, p99, credentials + TLS",
          value: latency.secured.p99,
          unit: "ms",
        },
        {
          label: "dispatch latency p50 secured ÷ plain, median of rounds",
          value: latencyRatio,
          unit: "×",
          note: `each round's: ${rounds.map((r) => r.latencyRatio).join(", ")}`,
        },
        { label: "throughput, plain, median", value: throughput.plain, unit: "actions/s" },
        { label: "throughput, credentials + TLS, median", value: throughput.secured, unit: "actions/s" },
        {
          label: "throughput secured ÷ plain, median of rounds",
          value: ratio,
          unit: "×",
          goalMin: 0.9,
          note: `${rounds.length} rounds of one ${options.windowS} s window each side, alternating which goes first: ${rounds.map((r) => r.throughputRatio).join(", ")}`,
        },
      ],
      notes: [
        `Dispatch latency is the attempt's \`queuedAt\` to the \`$EPOCHREALTIME\` its bash printed (as in the dispatch scenario); to the agent's "job accepted" line it is ${toAccept.plain.p50} ms plain and ${toAccept.secured.p50} ms secured at the median. ${latency.plain.n} and ${latency.secured.n} dispatches.`,
        `CPU per no-op action over the whole machine (median of the windows): ${msPerAction("plain")} ms plain, ${msPerAction("secured")} ms secured. TLS costs each party a handshake per connection (the agents keep theirs open) and AES-GCM on every message; credentials cost nothing per message (nats-server checks a client's permissions by subject, cached).`,
        `Idle-machine check before the rounds: ${quiet.quiet ? `quiet after ${quiet.waitedS} s` : "the machine did not get quiet"}; load average at the end (1, 5, 15 min) ${os
          .loadavg()
          .map((x) => x.toFixed(1))
          .join(", ")} on ${os.cpus().length} cores. ${failures} actions failed.`,
      ],
      details: { rounds, latency, toAccept, cpu: cpus },
    };
  } finally {
    if (secured) await stopStack(secured);
    await stopStack(plain);
  }
}
