/**
 * The README's first command: `npm start` (scripts/start.mjs) builds, starts the server on
 * PGlite, gives its local agent a token of its own and starts it, starts the dashboard, prints a
 * sign-in link, and stops everything on Ctrl-C. When the test NATS is on its default address, npm
 * start is left to start its own nats-server with credentials (the installation's operator and
 * accounts, the agent on short-lived credentials) and TLS (a certificate from the local CA it makes
 * in the data directory), and to choose the prefix; the test stops that
 * nats-server by the pid npm start wrote. Otherwise it runs on the given NATS without credentials
 * (SLUICE_NATS_INSECURE=1). The build is turbo's cache after the suite's build.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { deleteStreams, NATS_URL } from "../support/nats";
import { freePort } from "../support/private-nats";
import { eventually } from "../support/wait";

jest.setTimeout(240_000);

const ROOT = path.join(__dirname, "..", "..", "..");
/** NATS on its default address: npm start is left to find it and to choose the prefix. */
const localNats = NATS_URL === "nats://127.0.0.1:4222";
let prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
let dir: string;
let child: ChildProcess | null = null;
let out = "";
let sawLink: (seen: boolean) => void = () => {};
const linkSeen = new Promise<boolean>((resolve) => (sawLink = resolve));

afterAll(async () => {
  // What npm start printed, when the test failed to see what it waited for.
  if (!(await linkSeen)) process.stderr.write(`npm start printed:\n${out.slice(-5000)}\n`);
  sawLink(false);
  if (child && child.exitCode === null && child.signalCode === null) {
    // Ctrl-C first: npm start stops the server, agent and dashboard it started (each in a process
    // group of its own, which a SIGKILL of npm start's group would leave running, and jest with them).
    const running = child;
    const ended = new Promise<boolean>((resolve) => running.once("exit", () => resolve(true)));
    process.kill(-running.pid!, "SIGINT");
    const stopped = await Promise.race([
      ended,
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000).unref()),
    ]);
    if (!stopped) process.kill(-running.pid!, "SIGKILL");
  }
  if (localNats) {
    // The prefix npm start chose, even when the test stopped before reading it.
    try {
      prefix = fs.readFileSync(path.join(dir, "data", "nats-prefix"), "utf8").trim();
    } catch {
      // npm start stopped before choosing one: nothing to delete
    }
  }
  await deleteStreams(prefix);
  // The nats-server npm start started for this installation (it outlives npm start by design).
  const natsPid = Number(readIfThere(path.join(dir, "data", "nats-server", "nats.pid")));
  if (natsPid > 0) {
    try {
      process.kill(natsPid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

it("starts server, agent and dashboard with one command, and stops them on Ctrl-C", async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-npm-start-"));
  // The agent runs as root, and so each job as an unprivileged uid of its own: the demo's jobs read
  // its repository in the data directory, and reach their workspaces in agent-work.
  fs.chmodSync(dir, 0o755);
  const [port, webPort] = [await freePort(), await freePort()];
  child = spawn(process.execPath, [path.join(ROOT, "scripts", "start.mjs")], {
    cwd: ROOT,
    // Its own process group, as a terminal would give it: Ctrl-C is SIGINT to the group.
    detached: true,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? dir,
      PORT: String(port),
      WEB_PORT: String(webPort),
      // On the default NATS, npm start picks a prefix of its own and keeps it with the data.
      ...(localNats ? {} : { NATS_URL, SLUICE_NATS_PREFIX: prefix, SLUICE_NATS_INSECURE: "1" }),
      SLUICE_DATA_DIR: path.join(dir, "data"),
      SLUICE_AGENT_WORK_DIR: path.join(dir, "agent-work"),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));

  const link = await eventually(
    async () => /Dashboard: (http:\/\/localhost:\d+\/#token=([^\s]+))/.exec(out) ?? false,
    180_000,
    `the dashboard link in npm start's output:\n${out.slice(-3000)}`,
  );
  sawLink(true);
  const adminToken = decodeURIComponent(link[2]!);
  expect(fs.readFileSync(path.join(dir, "data", "admin-token"), "utf8").trim()).toBe(adminToken);
  if (localNats) {
    prefix = fs.readFileSync(path.join(dir, "data", "nats-prefix"), "utf8").trim();
    expect(prefix).toMatch(/^sluice_[0-9a-f]{8}$/);
    expect(out).toContain(`(prefix ${prefix}) with credentials per agent`);
    // The installation's NATS identity: kept with its data, readable by its owner only.
    expect(fs.statSync(path.join(dir, "data", "nats-identity.json")).mode & 0o777).toBe(0o600);
    // TLS with the installation's local CA, made on this first start: the private keys are the owner's only.
    const caFile = path.join(dir, "data", "tls", "ca.pem");
    expect(out).toMatch(/NATS: {6}tls:\/\/127\.0\.0\.1:\d+ /);
    expect(out).toContain(`with credentials per agent, TLS (CA ${caFile})`);
    expect(fs.statSync(path.join(dir, "data", "tls")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, "data", "tls", "ca-key.pem")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, "data", "nats-server", "nats-server-key.pem")).mode & 0o777).toBe(
      0o600,
    );
    expect(fs.readFileSync(path.join(dir, "data", "nats-server", "nats-server.conf"), "utf8")).toMatch(
      /^tls: \{/m,
    );
  }
  expect(fs.statSync(path.join(dir, "data", "agent-token")).mode & 0o777).toBe(0o600);

  const gql = async (query: string) => {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data: any };
  };
  // Listed from its credentials exchange on (offline), online once it registered over NATS (TLS).
  const agent = await eventually(
    async () =>
      (await gql(`{ agents { name status } }`)).data.agents.find(
        (a: any) => a.name === "local" && a.status !== "offline",
      ),
    60_000,
    "the local agent online",
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; npm start printed:\n${out.slice(-5000)}`);
  });
  expect(agent.status).not.toBe("offline");
  const { agentTokens } = (await gql(`{ agentTokens { description revokedAt } }`)).data;
  expect(agentTokens).toEqual([{ description: "local agent started by npm start", revokedAt: null }]);
  // The demo pipeline (scripts/demo-pipeline.mjs): its link, and its first execution, run by the local
  // agent, waits at its approval.
  // (printed once it is created, after the banner's other lines)
  await eventually(
    async () => out.includes(`Demo:      http://localhost:${webPort}/pipelines/demo`),
    60_000,
    `the demo's link in npm start's output:\n${out.slice(-3000)}`,
  );
  await eventually(
    async () => {
      const { pipeline } = (
        await gql(
          `{ pipeline(name: "demo") { executions(first: 1) { nodes { status stages { name status } } } } }`,
        )
      ).data;
      const execution = pipeline?.executions.nodes[0];
      if (execution?.status === "Failed") throw new Error(`the demo failed: ${JSON.stringify(execution)}`);
      return execution?.stages.find((s: any) => s.name === "Approval")?.status === "InProgress";
    },
    120_000,
    "the demo's first execution at its approval",
  );
  await eventually(
    async () => (await fetch(`http://127.0.0.1:${webPort}/signin`).catch(() => null))?.status === 200,
    60_000,
    "the dashboard",
  );

  process.kill(-child.pid!, "SIGINT");
  expect(await exited).toBe(0);
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
});

function readIfThere(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}
