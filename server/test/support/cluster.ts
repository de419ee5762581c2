import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { natsNames, type JobMessage } from "@sluice/protocol";
import type { GraphQLResponse } from "./server";
import { SERVER_MAIN } from "./process";
import { connectNats, NATS_URL } from "./nats";
import { eventually } from "./wait";

/** The admin token of every server process these helpers start. */
export const PROCESS_ADMIN_TOKEN = "process-admin-token-0123456789abcdef";

/** One built server (dist/src/main.js) running as a child process: killed with SIGKILL, not asked. */
export interface SluiceProcess {
  pid: number;
  /** The GraphQL endpoint, http://127.0.0.1:<port>/graphql. */
  url: string;
  /** http://127.0.0.1:<port>. */
  base: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  running(): boolean;
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
  /** The HTTP status of GET `path` (`/readyz`, `/healthz`). */
  status(path: string): Promise<number>;
  /** SIGKILL: no shutdown, nothing flushed, transactions cut off. */
  kill9(): Promise<void>;
  /** What the process printed, for a failing test's message. */
  output(): string;
}

/** The environment shared by the server processes of one installation: database, NATS prefix, data dir. */
export interface Installation {
  databaseUrl: string;
  natsPrefix: string;
  dataDir: string;
  /** Removes the data directory. */
  cleanup(): void;
}

export function installation(databaseUrl: string): Installation {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-proc-"));
  return {
    databaseUrl,
    natsPrefix: `test_${crypto.randomBytes(4).toString("hex")}`,
    dataDir,
    cleanup: () => fs.rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Every child this module started (a test file's own); `killStarted` ends the ones still running. */
const started = new Set<ChildProcess>();

/** SIGKILLs the server processes this test file started that still run, and waits for them. */
export async function killStarted(): Promise<void> {
  await Promise.all(
    [...started].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
      started.delete(child);
    }),
  );
}

/** Starts the built server on the installation (`env` overrides) and resolves once it listens. */
export async function startSluiceProcess(
  inst: Installation,
  env: Record<string, string> = {},
): Promise<SluiceProcess> {
  if (!fs.existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run \`npm run build\` first.`);
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      NODE_ENV: "test",
      DATABASE_URL: inst.databaseUrl,
      NATS_URL,
      SLUICE_NATS_PREFIX: inst.natsPrefix,
      SLUICE_DATA_DIR: inst.dataDir,
      SLUICE_ADMIN_TOKEN: PROCESS_ADMIN_TOKEN,
      SLUICE_NATS_INSECURE: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  // Keep the tail of the output only: request logs pile up while tests poll (all of it when the
  // outage tests are asked to dump it, OUTAGE_DUMP).
  const tail = process.env.OUTAGE_DUMP ? Infinity : 64_000;
  let out = "";
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-tail);
  };
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let first = "";
    const onData = (chunk: Buffer) => {
      keep(chunk);
      first += chunk.toString();
      const match = /"url":"(http:[^"]+)"/.exec(first);
      if (match) {
        child.stdout!.off("data", onData);
        child.stdout!.on("data", keep);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
  const base = url.replace(/\/graphql$/, "");
  return {
    pid: child.pid!,
    url,
    base,
    child,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    async gql(query, variables) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(15_000),
      });
      return (await response.json()) as GraphQLResponse<any>;
    },
    async status(p) {
      const response = await fetch(base + p, { signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      return response.status;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    output: () => out,
  };
}

/** Resolves once the installation's streams and the engine's consumer exist (a server made them). */
export async function waitForJetStream(prefix: string, timeoutMs = 15_000): Promise<void> {
  const nc = await connectNats();
  try {
    const jsm = await jetstreamManager(nc);
    const names = natsNames(prefix);
    await eventually(
      async () => {
        await jsm.streams.info(names.streams.jobs);
        await jsm.consumers.info(names.streams.results, names.consumers.engine);
        return true;
      },
      timeoutMs,
      `the JetStream streams of ${prefix}`,
    );
  } finally {
    await nc.close();
  }
}

/**
 * The engine consumer's counters: what waits for a server (`pending`), what a server holds
 * unacknowledged (`ackPending`), and the pull requests of servers waiting for results (`waiting`;
 * a killed server's are dropped once NATS notices its connection is gone).
 */
export async function engineConsumerInfo(
  prefix: string,
): Promise<{ pending: number; ackPending: number; redelivered: number; waiting: number }> {
  const nc = await connectNats();
  try {
    const jsm = await jetstreamManager(nc);
    const names = natsNames(prefix);
    const info = await jsm.consumers.info(names.streams.results, names.consumers.engine);
    return {
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
      waiting: info.num_waiting,
    };
  } finally {
    await nc.close();
  }
}

/** `jobId:attempt` of every job a worker saw more than once (none, when nothing was dispatched twice). */
export function repeatedAttempts(jobs: JobMessage[]): string[] {
  const seen = new Map<string, number>();
  for (const job of jobs) {
    const key = `${job.jobId}:${job.attempt}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}

export const EXECUTION_WITH_HISTORY = /* GraphQL */ `
  query ($id: ID!) {
    pipelineExecution(id: $id) {
      id
      status
      sequence
      stages {
        name
        status
        startTime
        endTime
        actions {
          id
          name
          status
          attempt
          attempts {
            attempt
          }
        }
      }
      events {
        sequence
        type
        stageName
        actionName
      }
    }
  }
`;

/** A complete history: sequences 1..n without a gap or a repeat, the last one `lastType`. */
export function historyProblems(
  execution: { sequence: number; events: Array<{ sequence: number; type: string }> },
  lastType = "EXECUTION_SUCCEEDED",
): string[] {
  const problems: string[] = [];
  const sequences = execution.events.map((e) => e.sequence);
  const expected = sequences.map((_, i) => i + 1);
  if (JSON.stringify(sequences) !== JSON.stringify(expected))
    problems.push(`sequences ${sequences.join(",")} are not 1..${sequences.length}`);
  if (execution.sequence !== sequences.length)
    problems.push(`execution sequence ${execution.sequence} but ${sequences.length} events`);
  if (execution.events.at(-1)?.type !== lastType)
    problems.push(`last event ${execution.events.at(-1)?.type ?? "none"}, not ${lastType}`);
  return problems;
}
