import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const AGENT_MAIN = path.join(__dirname, "..", "..", "..", "agent", "dist", "src", "main.js");

/** One built agent (agent/dist/src/main.js) running as a child process of the test. */
export interface AgentProcess {
  pid: number;
  name: string;
  workDir: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  kill9(): Promise<void>;
  /** SIGTERM: the agent drains (finishes its jobs) and leaves. */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

const started = new Set<AgentProcess>();

export function startAgentProcess(options: {
  natsUrl: string;
  /**
   * The server's HTTP address (SLUICE_SERVER_URL; a GraphQL endpoint's `/graphql` is dropped): the
   * agent moves its jobs' artifacts through it, so every agent needs it.
   */
  serverUrl: string;
  prefix: string;
  token: string;
  /** Give the agent its token in this file (SLUICE_AGENT_TOKEN_FILE) rather than in its environment. */
  tokenFile?: string;
  name: string;
  pool?: string;
  providers?: string;
  concurrency?: number;
  /** Wraps the command, e.g. to run it in a network namespace. */
  wrap?: (argv: string[]) => string[];
  env?: Record<string, string>;
}): AgentProcess {
  if (!fs.existsSync(AGENT_MAIN)) throw new Error(`${AGENT_MAIN} is missing: run \`npm run build\` first.`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-agent-${options.name}-`));
  const argv = [
    process.execPath,
    AGENT_MAIN,
    "--nats",
    options.natsUrl,
    "--name",
    options.name,
    "--work-dir",
    workDir,
    "--prefix",
    options.prefix,
    ...(options.pool ? ["--pool", options.pool] : []),
    ...(options.providers ? ["--providers", options.providers] : []),
    ...(options.concurrency ? ["--concurrency", String(options.concurrency)] : []),
  ];
  const [command, ...args] = options.wrap ? options.wrap(argv) : argv;
  const child = spawn(command!, args, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? os.tmpdir(),
      ...(options.tokenFile
        ? { SLUICE_AGENT_TOKEN_FILE: options.tokenFile }
        : { SLUICE_AGENT_TOKEN: options.token }),
      LOG_LEVEL: "info",
      // The shared test NATS has no authentication (secured-nats tests pass SLUICE_SERVER_URL).
      SLUICE_NATS_INSECURE: "1",
      SLUICE_SERVER_URL: options.serverUrl.replace(/\/graphql$/, ""),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(process.env.OUTAGE_DUMP ? 0 : -64_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const agent: AgentProcess = {
    pid: child.pid!,
    name: options.name,
    workDir,
    child,
    exited,
    running,
    async kill9() {
      if (running()) child.kill("SIGKILL");
      await exited;
    },
    async terminate() {
      if (running()) child.kill("SIGTERM");
      return exited;
    },
    output: () => out,
  };
  started.add(agent);
  void exited.then(() => fs.rmSync(workDir, { recursive: true, force: true }));
  return agent;
}

/** SIGKILLs every agent this test file started that still runs. */
export async function killAgents(): Promise<void> {
  await Promise.all([...started].map((agent) => agent.kill9()));
  started.clear();
}
