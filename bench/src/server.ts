import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import pino from "pino";
import { startServer, type SluiceServer } from "@sluice/server/dist/src/app";
import { loadConfig } from "@sluice/server/dist/src/config";
import { createBenchDatabase, type BenchDatabase } from "./database";
import { BENCH_TOKEN, NATS_URL, natsPrefix, tempDir } from "./env";
import { collectGarbage } from "./inspector";
import { deleteStreams } from "./nats";
import { sleep } from "./stats";

/** Stops of the servers still running: main.ts runs them when the bench is interrupted. */
export const running = new Set<() => Promise<void>>();

/** Runs `stop` once, and forgets it from `running`. */
function tracked(stop: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  const once = () => {
    running.delete(once);
    return (done ??= stop());
  };
  running.add(once);
  return once;
}

/**
 * The built server (`npx turbo run build` first), or BENCH_SERVER_MAIN: another build's main.js,
 * e.g. one of a clean checkout while the working tree's server is half-edited.
 */
export const SERVER_MAIN = process.env.BENCH_SERVER_MAIN || require.resolve("@sluice/server");

export interface BenchServerBase {
  url: string;
  token: string;
  natsPrefix: string;
  database: BenchDatabase;
  /** Stops the server, then removes its streams, database and data directory. */
  stop(): Promise<void>;
}

export interface ChildServer extends BenchServerBase {
  pid: number;
  /** The server's DevTools endpoint when started with `inspect: true`. */
  debuggerUrl: string | null;
  child: ChildProcess;
  stderr(): string;
}

export interface InProcessServer extends BenchServerBase {
  server: SluiceServer;
}

/**
 * Runs `server/dist/src/main.js` as a child process (its memory and CPU apart from the bench's) on
 * a database and NATS prefix of its own; resolves once it listens and `/readyz` answers 200.
 */
export async function startChildServer(
  options: { env?: Record<string, string>; nodeArgs?: string[]; inspect?: boolean } = {},
): Promise<ChildServer> {
  if (!fs.existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run \`npx turbo run build\`.`);
  const database = await createBenchDatabase();
  const prefix = natsPrefix();
  const dataDir = tempDir();
  // BENCH_SERVER_NODE_ARGS: extra node options for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = options.nodeArgs ?? (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  if (options.inspect) nodeArgs.push("--inspect=127.0.0.1:0");
  const child = spawn(process.execPath, [...nodeArgs, SERVER_MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      NODE_ENV: "production",
      DATABASE_URL: database.url,
      NATS_URL,
      SLUICE_NATS_PREFIX: prefix,
      SLUICE_ADMIN_TOKEN: BENCH_TOKEN,
      SLUICE_DATA_DIR: dataDir,
      SLUICE_MAX_PIPELINES: "5000",
      SLUICE_NATS_INSECURE: "1",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let listening = false;
  let debuggerUrl: string | null = null;
  child.stderr!.on("data", (chunk: Buffer) => {
    if (err.length < 100_000) err += chunk.toString();
    debuggerUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(err)?.[1] ?? null;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const cleanup = async () => {
    await deleteStreams(prefix).catch(() => undefined);
    await database.drop().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      // The server logs one JSON line per request: keep only what precedes "listening".
      // BENCH_SERVER_STDOUT=<file>: keep everything the server prints (logs, --trace-gc) in a file.
      const keep = process.env.BENCH_SERVER_STDOUT
        ? fs.createWriteStream(process.env.BENCH_SERVER_STDOUT)
        : null;
      child.stdout!.on("data", (chunk: Buffer) => {
        keep?.write(chunk);
        if (listening) return;
        out += chunk.toString();
        const match = /"url":"(http:[^"]+)"/.exec(out);
        if (match) {
          listening = true;
          out = "";
          resolve(match[1]!);
        }
      });
      void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${err}`)));
    });
    await waitReady(url);
  } catch (error) {
    child.kill("SIGKILL");
    await cleanup();
    throw error;
  }
  return {
    url,
    token: BENCH_TOKEN,
    natsPrefix: prefix,
    database,
    pid: child.pid!,
    debuggerUrl,
    child,
    stderr: () => err,
    stop: tracked(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await cleanup();
    }),
  };
}

/** Polls `/readyz` until PostgreSQL and NATS answer (200). */
export async function waitReady(graphqlUrl: string, timeoutMs = 30_000): Promise<void> {
  const readyz = new URL("/readyz", graphqlUrl).toString();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(readyz);
      if (response.status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${readyz} did not answer 200 within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * Runs the server in this process (startServer from the built server), so the bench can look into
 * its DataSource (`server.db`). Logs go to /dev/null at the production level (info), so their
 * cost is paid as in production without filling the bench's output.
 */
export async function startInProcessServer(env: Record<string, string> = {}): Promise<InProcessServer> {
  const database = await createBenchDatabase();
  const prefix = natsPrefix();
  const dataDir = tempDir();
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    NODE_ENV: "production",
    DATABASE_URL: database.url,
    NATS_URL,
    SLUICE_NATS_PREFIX: prefix,
    SLUICE_DATA_DIR: dataDir,
    SLUICE_MAX_PIPELINES: "5000",
    SLUICE_NATS_INSECURE: "1",
    ...env,
  });
  const logger = pino(
    { level: "info", base: { service: "sluice-server" } },
    pino.destination({ dest: "/dev/null", sync: false }),
  );
  let server: SluiceServer;
  try {
    server = await startServer({ config, adminToken: BENCH_TOKEN, logger });
    await server.messagingReady;
  } catch (error) {
    await database.drop().catch(() => undefined);
    throw error;
  }
  return {
    url: server.url,
    token: BENCH_TOKEN,
    natsPrefix: prefix,
    database,
    server,
    stop: tracked(async () => {
      await server.stop();
      await deleteStreams(prefix).catch(() => undefined);
      await database.drop().catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }),
  };
}

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** CPU time (user + system) a process has used, in milliseconds, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** The server's RSS and JS heap right after a full garbage collection (through its inspector). */
export async function memoryOf(server: ChildServer): Promise<{ rss: number; heap: number }> {
  const { usedHeapBytes } = server.debuggerUrl
    ? await collectGarbage(server.debuggerUrl)
    : { usedHeapBytes: Number.NaN };
  await sleep(500);
  const samples = [0, 1, 2].map(() => rssBytes(server.pid)).sort((a, b) => a - b);
  return { rss: samples[1]!, heap: usedHeapBytes };
}

/** Bytes in MiB, one decimal. */
export const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
