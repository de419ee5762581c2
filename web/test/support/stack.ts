/**
 * The whole stack a browser test talks to: a real server process (built server/dist) on a fresh
 * PostgreSQL database and a NATS prefix of its own, a real agent process (built agent/dist), the
 * built dashboard under `next start`, and a TCP proxy between the dashboard and the server that the
 * test can cut to see the dashboard reconnect.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { buildSchema, NoDeprecatedCustomRule, parse, validate } from "graphql";
import { killAgents, startAgentProcess, type AgentProcess } from "../../../server/test/support/agent-process";
import {
  installation,
  killStarted,
  PROCESS_ADMIN_TOKEN,
  startSluiceProcess,
  type Installation,
  type SluiceProcess,
} from "../../../server/test/support/cluster";
import { createTestDatabase, type TestDatabase } from "../../../server/test/support/database";
import { deleteStreams, NATS_URL } from "../../../server/test/support/nats";
import { TcpProxy } from "../../../server/test/support/tcp-proxy";
import { eventually } from "../../../server/test/support/wait";

/** The public schema, to refuse a deprecated field in a test's own request. */
const SCHEMA = buildSchema(fs.readFileSync(path.join(__dirname, "..", "..", "..", "schema.graphql"), "utf8"));

export const WEB_DIR = path.join(__dirname, "..", "..");
export const ADMIN_TOKEN = PROCESS_ADMIN_TOKEN;

export interface Stack {
  server: SluiceProcess;
  agent: AgentProcess;
  /** The dashboard's base URL, http://127.0.0.1:<port>. */
  web: string;
  /** Between the dashboard (and its browser) and the server. */
  proxy: TcpProxy;
  /** A git repository (file://) with one commit. */
  repo: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], { cwd })
    .toString()
    .trim();
}

function makeRepository(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, "app.txt"), "hello from the repository\n");
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "First commit");
  return dir;
}

/** `next start` of the built app; resolves once it answers. */
async function startNext(port: number, endpoint: string): Promise<{ child: ChildProcess; output(): string }> {
  if (!fs.existsSync(path.join(WEB_DIR, ".next", "BUILD_ID")))
    throw new Error("web/.next is missing: run `npm run build -w @sluice/web` first.");
  const next = require.resolve("next/dist/bin/next", { paths: [WEB_DIR] });
  const child = spawn(process.execPath, [next, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: WEB_DIR,
    env: { PATH: process.env.PATH ?? "", NEXT_TELEMETRY_DISABLED: "1", SLUICE_ENDPOINT: endpoint },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (chunk: Buffer) => (out = (out + chunk.toString()).slice(-32_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${out}`);
      const response = await fetch(`http://127.0.0.1:${port}/signin`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return response.ok;
    },
    30_000,
    "next start to answer",
  );
  return { child, output: () => out };
}

export interface StackOptions {
  /**
   * More of the server's environment, made once the addresses are known: `server` is the server's
   * address as the browser reaches it (through the proxy), `web` the dashboard's.
   */
  serverEnv?: (addresses: { server: string; web: string }) => Promise<Record<string, string>>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-web-"));
  // Jobs of an agent running as root run as uids of their own: they read the repository here.
  fs.chmodSync(scratch, 0o755);
  const repo = makeRepository(path.join(scratch, "repo"));
  const database: TestDatabase = await createTestDatabase();
  const inst: Installation = installation(database.url);
  const [serverPort, webPort] = [await freePort(), await freePort()];
  const proxy = await TcpProxy.start("127.0.0.1", serverPort);
  const endpoint = `http://127.0.0.1:${proxy.port}/graphql`;
  const extraEnv =
    (await options.serverEnv?.({
      server: `http://127.0.0.1:${proxy.port}`,
      web: `http://127.0.0.1:${webPort}`,
    })) ?? {};
  // The server and the dashboard start together: the dashboard needs only the address.
  const [server, next] = await Promise.all([
    startSluiceProcess(inst, {
      PORT: String(serverPort),
      SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1",
      ...extraEnv,
    }),
    startNext(webPort, endpoint),
  ]);
  const gql = async (query: string, variables?: Record<string, unknown>) => {
    // Like the dashboard, the tests use no deprecated field (docs/graphql.md).
    const deprecated = validate(SCHEMA, parse(query), [NoDeprecatedCustomRule]);
    if (deprecated.length > 0) throw new Error(deprecated.map((e) => e.message).join("\n"));
    const response = await server.gql(query, variables);
    if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
    return response.data as any;
  };
  const { createAgentTokenV2 } = await gql(
    `mutation { createAgentTokenV2(input: { description: "web browser tests" }) { token } }`,
  );
  const agent = startAgentProcess({
    natsUrl: NATS_URL,
    prefix: inst.natsPrefix,
    serverUrl: server.url,
    token: createAgentTokenV2.token,
    name: "web-agent",
    concurrency: 2,
  });
  return {
    server,
    agent,
    web: `http://127.0.0.1:${webPort}`,
    proxy,
    repo,
    gql,
    async stop() {
      const nextExited = new Promise((resolve) => next.child.once("exit", resolve));
      next.child.kill("SIGTERM");
      await nextExited;
      await killAgents();
      await killStarted();
      await proxy.close();
      await deleteStreams(inst.natsPrefix).catch(() => undefined);
      await database.drop().catch(() => undefined);
      inst.cleanup();
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}
