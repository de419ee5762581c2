import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { NATS_URL, tempDir } from "./env";
import { running } from "./server";
import { sleep } from "./stats";

/** The built agent (`npx turbo run build` first). */
export const AGENT_MAIN = require.resolve("@sluice/agent/dist/src/main.js");

export interface AgentProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The tail of what it printed (its own log), for error messages. */
  output(): string;
  /** SIGTERM (drain), SIGKILL after 10 s; removes its work directory. */
  stop(): Promise<void>;
}

export interface AgentProcessOptions {
  name: string;
  /** The NATS it connects to (default NATS_URL, the bench's NATS). */
  natsUrl?: string;
  token: string;
  /** The server's HTTP address (its GraphQL URL will do): the agent moves its jobs' artifacts there. */
  serverUrl: string;
  prefix: string;
  pool?: string;
  concurrency: number;
  providers: string;
  handlers?: string[];
  pollIntervalMs?: number;
  /** Filled with jobId → the time (ms, the agent's clock) of its "job accepted" log line. */
  acceptedAt?: Map<string, number>;
  /** More environment (SLUICE_NATS_INSECURE=0: NATS credentials from the server too). */
  env?: Record<string, string>;
}

/** Runs `agent/dist/src/main.js` as a process of its own, with a work directory of its own. */
export function startAgentProcess(options: AgentProcessOptions): AgentProcess {
  if (!fs.existsSync(AGENT_MAIN)) throw new Error(`${AGENT_MAIN} is missing: run \`npx turbo run build\`.`);
  const workDir = tempDir();
  // BENCH_AGENT_NODE_ARGS: extra node options for every agent, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_AGENT_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const args = [
    ...nodeArgs,
    AGENT_MAIN,
    "--nats",
    options.natsUrl ?? NATS_URL,
    "--name",
    options.name,
    "--prefix",
    options.prefix,
    "--pool",
    options.pool ?? "default",
    "--concurrency",
    String(options.concurrency),
    "--providers",
    options.providers,
    "--work-dir",
    workDir,
    "--log-level",
    // BENCH_AGENT_LOG=<file>: every agent logs at debug level (with each job's "job timings") there.
    process.env.BENCH_AGENT_LOG ? "debug" : "info",
    ...(options.handlers ?? []).flatMap((h) => ["--handler", h]),
    ...(options.pollIntervalMs === undefined ? [] : ["--poll-interval-ms", String(options.pollIntervalMs)]),
  ];
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? workDir,
      SLUICE_AGENT_TOKEN: options.token,
      // The bench's NATS has no authentication unless `env` says SLUICE_NATS_INSECURE=0.
      SLUICE_NATS_INSECURE: "1",
      SLUICE_SERVER_URL: options.serverUrl.replace(/\/graphql$/, ""),
      // SLUICE_AGENT_NO_JOB_ISOLATION=1 on the bench: jobs as root, to see what isolation costs.
      ...(process.env.SLUICE_AGENT_NO_JOB_ISOLATION
        ? { SLUICE_AGENT_NO_JOB_ISOLATION: process.env.SLUICE_AGENT_NO_JOB_ISOLATION }
        : {}),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (chunk: Buffer) => void (out = (out + chunk.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const logFile = process.env.BENCH_AGENT_LOG;
  if (logFile)
    for (const stream of [child.stdout!, child.stderr!])
      stream.on("data", (chunk: Buffer) => fs.appendFileSync(logFile, chunk));
  // The agent logs "job accepted" (pino, info) once the accept is stored and the job +ACKed.
  let partial = "";
  const accepted = options.acceptedAt;
  if (accepted) {
    child.stderr!.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.includes('"job accepted"')) continue;
        try {
          // pino's time: ISO 8601 (the agent's and the server's format), or epoch ms.
          const entry = JSON.parse(line) as { jobId?: string; time?: number | string };
          const time = typeof entry.time === "string" ? Date.parse(entry.time) : entry.time;
          if (entry.jobId && time && Number.isFinite(time)) accepted.set(entry.jobId, time);
        } catch {
          // not a log line
        }
      }
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      running.delete(stop);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(workDir, { recursive: true, force: true });
    })());
  running.add(stop);
  return { name: options.name, pid: child.pid!, child, output: () => out, stop };
}

/** Waits until every named agent is listed and not offline (the server heard its registration). */
export async function waitOnline(
  query: () => Promise<Array<{ name: string; status: string }>>,
  agents: AgentProcess[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = await query();
    const missing = agents.filter((a) => !listed.some((l) => l.name === a.name && l.status !== "offline"));
    if (missing.length === 0) return;
    for (const a of missing) {
      if (a.child.exitCode !== null) throw new Error(`agent ${a.name} exited:\n${a.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`agents not online: ${missing.map((a) => `${a.name}: ${a.output()}`).join("\n")}`);
    }
    await sleep(200);
  }
}
