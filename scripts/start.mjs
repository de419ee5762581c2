#!/usr/bin/env node
// Root `npm start`: installs and builds what is needed, makes sure of a local NATS (when NATS_URL is unset),
// then runs the server and — when those workspaces exist — the agent and the web dashboard.
// Without DATABASE_URL the server keeps its data in PGlite under SLUICE_DATA_DIR (default .sluice/data).
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { demoLink, ensureDemoPipeline } from "./demo-pipeline.mjs";
import {
  DEFAULT_NATS_URL,
  ROOT,
  ensureDeps,
  ensureNats,
  ensureSecuredNats,
  log,
  runOrExit,
} from "./ensure-services.mjs";

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", NEXT_TELEMETRY_DISABLED: "1" };
env.SLUICE_DATA_DIR = path.resolve(env.SLUICE_DATA_DIR ?? path.join(ROOT, ".sluice", "data"));
const port = env.PORT ?? "4000";
// Outside the checkout: a job's git without a .git of its own must not find Sluice's repository.
const agentWorkDir = path.resolve(env.SLUICE_AGENT_WORK_DIR ?? path.join(os.tmpdir(), "sluice-agent"));
const webPort = env.WEB_PORT ?? "3000";
// Server and dashboard listen on this host only unless SLUICE_HOST (or HOST) says otherwise.
const host = env.SLUICE_HOST || env.HOST || "127.0.0.1";
const reachAt = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
// NATS without credentials only when asked for (the server and the agent refuse it otherwise).
const natsInsecure = env.SLUICE_NATS_INSECURE === "1" || env.SLUICE_NATS_INSECURE === "true";

await runOrExit(async () => {
  ensureDeps();
  log("building: turbo run build");
  const build = spawnSync(
    path.join(ROOT, "node_modules", ".bin", "turbo"),
    ["run", "build", "--ui=stream", "--output-logs=errors-only"],
    {
      cwd: ROOT,
      env,
      stdio: "inherit",
    },
  );
  if (build.status !== 0) {
    log(`build failed (exit ${build.status ?? build.signal})`);
    process.exit(1);
  }
  fs.mkdirSync(env.SLUICE_DATA_DIR, { recursive: true });
  if (natsInsecure)
    log(
      "WARNING: SLUICE_NATS_INSECURE=1: NATS without credentials; whoever reaches it can publish jobs and results",
    );
  if (!env.NATS_URL && natsInsecure) {
    // nats store in .sluice/nats, log .sluice/nats.log, pid .sluice/nats.pid; it keeps running after we exit
    await ensureNats(DEFAULT_NATS_URL, { dataDir: path.join(ROOT, ".sluice") });
    env.NATS_URL = DEFAULT_NATS_URL;
    env.SLUICE_NATS_PREFIX ??= localNatsPrefix();
  } else if (!env.NATS_URL) {
    // The installation's own nats-server with credentials and TLS (a certificate from the local CA in
    // $SLUICE_DATA_DIR/tls), under $SLUICE_DATA_DIR/nats-server; it keeps running after we exit.
    const secured = await ensureSecuredNats({
      dataDir: env.SLUICE_DATA_DIR,
      configTool: path.join(ROOT, "server", "dist", "src", "nats-config.js"),
    });
    env.NATS_URL = secured.url;
    // The server and the local agent trust the local CA for NATS.
    env.SLUICE_NATS_CA_FILE = secured.caFile;
    env.SLUICE_NATS_PREFIX ??= localNatsPrefix();
  }
});

const main = path.join(ROOT, "server", "dist", "src", "main.js");
if (!fs.existsSync(main)) {
  log(`${path.relative(ROOT, main)} is missing after the build`);
  process.exit(1);
}

// A port in use is said once, before anything starts (the server would say it too, but the
// dashboard's Next.js would print a stack).
for (const [name, value, variable] of [
  ["the server", port, "PORT"],
  ["the dashboard", webPort, "WEB_PORT"],
]) {
  const problem = await portProblem(host, Number(value));
  if (problem) {
    log(`cannot start ${name}: port ${value} on ${host} ${problem} (set ${variable}, or stop what uses it)`);
    process.exit(1);
  }
}

function startScript(dir) {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, dir, "package.json"), "utf8"));
    return pkg.scripts?.start ? pkg.name : null;
  } catch {
    return null;
  }
}

const children = new Map(); // name -> ChildProcess

/** Signals a child's whole process group (npm -> sh -> node), once. */
function signalChild(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
function launch(name, cmd, args, opts) {
  // own process group, so a signal reaches each child once: from us
  const child = spawn(cmd, args, { stdio: "inherit", env, detached: true, ...opts });
  children.set(name, child);
  child.on("exit", (code, signal) => {
    children.delete(name);
    if (name === "server") {
      log(`server exited (${signal ?? code})`);
      for (const other of children.values()) signalChild(other, "SIGTERM");
      process.exitCode = code ?? (stopping ? 0 : 1);
      setTimeout(() => process.exit(), 10_000).unref(); // do not hang on a child that ignores SIGTERM
    } else if (!stopping) {
      log(`${name} exited (${signal ?? code})`);
    }
  });
  return child;
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ${[...children.keys()].join(", ")}`);
    for (const child of children.values()) signalChild(child, signal);
  });
}
process.on("exit", () => {
  for (const child of children.values()) signalChild(child, "SIGTERM");
});

log(
  `starting the server (${env.DATABASE_URL ? "PostgreSQL from DATABASE_URL" : `PGlite in ${env.SLUICE_DATA_DIR}`})`,
);
// The dashboard is served on its own port here: single sign-on and notification links end there.
launch("server", process.execPath, [main], {
  cwd: path.join(ROOT, "server"),
  env: {
    ...env,
    HOST: host,
    SLUICE_DASHBOARD_URL: env.SLUICE_DASHBOARD_URL || `http://localhost:${webPort}`,
  },
});

// Wait until the server answers over HTTP before starting what talks to it.
const waitStart = Date.now();
let up = false;
let warned = false;
while (!up && !stopping && children.has("server")) {
  try {
    // Ready: the database and NATS answer (a server that cannot reach them exits, saying why).
    up = (await fetch(`http://${reachAt}:${port}/readyz`, { signal: AbortSignal.timeout(1000) })).ok;
    if (!up) await new Promise((r) => setTimeout(r, 250));
  } catch {
    if (!warned && Date.now() - waitStart > 60_000) {
      warned = true;
      log(`the server has not answered on port ${port} for 60s; still waiting`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
if (up) {
  const agent = startScript("agent");
  const web = startScript("web");
  const endpoint = `http://localhost:${port}/graphql`;
  env.SLUICE_ENDPOINT ??= endpoint;
  if (agent) {
    const agentEnv = await localAgentEnv(endpoint);
    if (agentEnv) launch("agent", "npm", ["run", "start", "-w", agent], { cwd: ROOT, env: agentEnv });
  }
  if (web) {
    launch("web", "npm", ["run", "start", "-w", web], {
      cwd: ROOT,
      env: { ...env, WEB_PORT: webPort, WEB_HOST: env.WEB_HOST || host },
    });
    if (!(await answers(`http://${reachAt}:${webPort}/`, "web"))) {
      if (!stopping) {
        log("the dashboard did not start; stopping");
        for (const child of children.values()) signalChild(child, "SIGTERM");
        process.exitCode = 1;
      }
      up = false;
    }
  }
}
if (up) {
  const endpoint = env.SLUICE_ENDPOINT;
  const web = children.has("web");
  const agent = children.has("agent");
  log(`GraphQL:   ${endpoint}`);
  log(
    `NATS:      ${env.NATS_URL} (prefix ${env.SLUICE_NATS_PREFIX ?? "sluice"}) ${natsInsecure ? "WITHOUT credentials" : "with credentials per agent"}${env.SLUICE_NATS_CA_FILE ? `, TLS (CA ${env.SLUICE_NATS_CA_FILE})` : ""}`,
  );
  if (web) {
    // A sign-in link: the dashboard keeps the token for the browser session and drops it from the URL.
    const adminToken = env.SLUICE_ADMIN_TOKEN ?? readSecret(path.join(env.SLUICE_DATA_DIR, "admin-token"));
    log(
      `Dashboard: http://localhost:${webPort}/${adminToken ? `#token=${encodeURIComponent(adminToken)}` : ""}`,
    );
  }
  if (agent && children.has("agent")) log(`Agent:     started (work directory ${agentWorkDir})`);
  await offerDemo(web);
  log("Ctrl-C stops it");
}

/** The demo pipeline (scripts/demo-pipeline.mjs), made on the first start of an installation. */
async function offerDemo(web) {
  const adminToken = env.SLUICE_ADMIN_TOKEN ?? readSecret(path.join(env.SLUICE_DATA_DIR, "admin-token"));
  if (!adminToken) return;
  try {
    const outcome = await ensureDemoPipeline({
      dataDir: env.SLUICE_DATA_DIR,
      endpoint: `http://127.0.0.1:${port}/graphql`,
      adminToken,
    });
    if (outcome === "created")
      log(
        `Demo:      ${web ? demoLink(webPort) : "pipeline demo"} (a local repository; it runs up to its approval)`,
      );
  } catch (error) {
    log(`could not create the demo pipeline: ${error.message}`);
  }
}

/**
 * The local agent's environment: the NATS the server uses and a token of its own, created once
 * through the API with the admin token and kept in $SLUICE_DATA_DIR/agent-token (0600). A token that no
 * longer works (revoked, or the data was reset) is replaced.
 */
async function localAgentEnv(endpoint) {
  const adminToken = env.SLUICE_ADMIN_TOKEN ?? readSecret(path.join(env.SLUICE_DATA_DIR, "admin-token"));
  if (!adminToken) {
    log("no admin token found: the local agent is not started (set SLUICE_ADMIN_TOKEN)");
    return null;
  }
  // Kept with the installation's data: a token belongs to the database that issued it.
  const file = path.join(env.SLUICE_DATA_DIR, "agent-token");
  let token = env.SLUICE_AGENT_TOKEN ?? readSecret(file);
  const gql = async (query, variables) => {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (body.errors?.length) throw new Error(body.errors[0].message);
    return body.data;
  };
  try {
    const { agentTokens } = await gql("{ agentTokens { id description revokedAt } }");
    const stored = readSecret(`${file}.id`);
    const usable = agentTokens.some((t) => t.id === stored && t.revokedAt === null);
    if (!token || (!env.SLUICE_AGENT_TOKEN && !usable)) {
      const { createAgentToken } = await gql(
        "mutation ($d: String!) { createAgentToken(description: $d) { id token } }",
        { d: "local agent started by npm start" },
      );
      token = createAgentToken.token;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
      fs.writeFileSync(`${file}.id`, `${createAgentToken.id}\n`, { mode: 0o600 });
      log(`created an agent token for the local agent (${file})`);
    }
  } catch (error) {
    log(`could not get an agent token: ${error.message}; the local agent is not started`);
    return null;
  }
  // The agent reads its token from the file: a token in the environment of npm and its shell
  // (/proc/<pid>/environ) is one more place a process of the same user could read it.
  const { SLUICE_AGENT_TOKEN: given, ...rest } = env;
  return {
    ...rest,
    ...(given ? { SLUICE_AGENT_TOKEN: given } : { SLUICE_AGENT_TOKEN_FILE: file }),
    SLUICE_AGENT_NAME: env.SLUICE_AGENT_NAME ?? "local",
    // Where the agent exchanges its token for NATS credentials (unless NATS is insecure) and moves
    // its jobs' artifacts (always: agents have no access to the artifacts bucket).
    SLUICE_SERVER_URL: env.SLUICE_SERVER_URL ?? `http://${reachAt}:${port}`,
    SLUICE_AGENT_WORK_DIR: agentWorkDir,
  };
}

/**
 * The NATS prefix of a local installation: made once and kept with its data. The local NATS (or a
 * machine's own on 127.0.0.1:4222) outlives a data directory that is removed, and may be shared by
 * several checkouts: with the default prefix, a new installation would take the jobs an earlier
 * one left in the streams and run them for nobody.
 */
function localNatsPrefix() {
  const file = path.join(env.SLUICE_DATA_DIR, "nats-prefix");
  const kept = readSecret(file);
  if (kept && /^[A-Za-z0-9_-]{1,32}$/.test(kept)) return kept;
  const prefix = `sluice_${crypto.randomBytes(4).toString("hex")}`;
  fs.writeFileSync(file, `${prefix}\n`);
  log(`NATS prefix of this installation: ${prefix} (kept in ${file})`);
  return prefix;
}

/** null when `port` can be listened on at `host`; otherwise why not ("is already in use"). */
function portProblem(listenHost, value) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", (error) =>
      resolve(error.code === "EADDRINUSE" ? "is already in use" : `cannot be used: ${error.message}`),
    );
    probe.listen(value, listenHost, () => probe.close(() => resolve(null)));
  });
}

/** Waits until `url` answers over HTTP (true) or the child `name` is gone (false). */
async function answers(url, name) {
  while (children.has(name) && !stopping) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return false;
}

function readSecret(file) {
  try {
    const value = fs.readFileSync(file, "utf8").trim();
    return value.length > 0 ? value : null;
  } catch {
    return null;
  }
}
