#!/usr/bin/env node
// Makes sure of what Sluice needs on this machine: node_modules, PostgreSQL, NATS with JetStream, Chromium.
// Plain Node ESM with builtins only: it runs before `npm ci`.
//
//   node scripts/ensure-services.mjs [--deps] [--postgres] [--nats] [--chromium]   (no flag: --postgres --nats)
//
// Used by `npm start` (scripts/start.mjs), `npm test` (scripts/test.mjs) and `.ci/run`.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** An error whose message is the one line to show the user (already says what to run). */
export class EnsureError extends Error {}

export function log(message) {
  console.log(`[sluice] ${message}`);
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;
const exists = (p) => fs.existsSync(p);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function which(cmd, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), ...extraDirs];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, cmd);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Runs a command with inherited stdio; throws EnsureError when it fails (unless okCodes has its code). */
function run(cmd, args, { cwd = ROOT, env = process.env, okCodes = [0] } = {}) {
  const res = spawnSync(cmd, args, { cwd, env, stdio: "inherit" });
  if (res.error) throw new EnsureError(`could not run ${cmd}: ${res.error.message}`);
  if (!okCodes.includes(res.status ?? -1)) {
    throw new EnsureError(`'${[cmd, ...args].join(" ")}' failed with exit code ${res.status ?? res.signal}`);
  }
  return res.status;
}

async function waitUntil(check, { timeoutMs, intervalMs = 200, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() >= deadline)
      throw new EnsureError(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

let aptUpdated = false;
function aptInstall(packages, advice) {
  if (!isRoot() || !which("apt-get")) throw new EnsureError(advice);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    log("apt-get update");
    run("apt-get", ["update", "-q"], { env });
    aptUpdated = true;
  }
  log(`apt-get install -y ${packages.join(" ")}`);
  run("apt-get", ["install", "-y", "-q", ...packages], { env });
}

// ---------------------------------------------------------------------------------------------------------
// npm dependencies

/** Runs `npm ci` (or `npm install` without a lockfile) when node_modules is missing or older than the lockfile. */
export function ensureDeps(root = ROOT) {
  const lock = path.join(root, "package-lock.json");
  const nodeModules = path.join(root, "node_modules");
  // npm writes node_modules/.package-lock.json after package-lock.json on every install.
  const marker = path.join(nodeModules, ".package-lock.json");
  let reason = null;
  if (!exists(nodeModules)) reason = "node_modules is missing";
  else if (exists(lock)) {
    const installed = fs.statSync(exists(marker) ? marker : nodeModules).mtimeMs;
    if (fs.statSync(lock).mtimeMs > installed) reason = "package-lock.json is newer than node_modules";
  }
  if (!reason) return false;
  const args = exists(lock) ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"];
  log(`${reason}: npm ${args[0]}`);
  run("npm", args, { cwd: root });
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL

function parsePgUrl(url) {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  const user = decodeURIComponent(u.username) || "postgres";
  return {
    host,
    port: Number(u.port || 5432),
    user,
    database: decodeURIComponent(u.pathname.replace(/^\//, "")) || user,
    hasPassword: u.password !== "",
    local: LOCAL_HOSTS.has(host),
  };
}

/**
 * Opens a PostgreSQL protocol 3 connection without a password and says how far it got:
 * ready (trust), auth (a password is asked for), starting, error (server error) or down (no TCP).
 */
export function probePostgres({ host, port, user, database }, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (result.state === "ready") {
        const terminate = Buffer.from([0x58, 0, 0, 0, 4]); // 'X' Terminate
        socket.end(terminate);
      } else socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ state: "down", message: "timeout" }), timeoutMs);
    socket.on("error", (err) => finish({ state: "down", message: err.code ?? err.message }));
    socket.on("close", () => finish({ state: "down", message: "connection closed" }));
    socket.on("connect", () => {
      const params = Buffer.from(`user\0${user}\0database\0${database}\0application_name\0sluice-ensure\0\0`);
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + params.length, 0);
      head.writeInt32BE(196608, 4); // protocol 3.0
      socket.write(Buffer.concat([head, params]));
    });
    socket.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const type = String.fromCharCode(buf[0]);
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) return;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === "R") {
          const code = body.readInt32BE(0);
          if (code !== 0)
            return finish({ state: "auth", method: { 3: "password", 5: "md5", 10: "scram" }[code] ?? code });
        } else if (type === "Z") {
          return finish({ state: "ready" });
        } else if (type === "E") {
          const fields = {};
          for (const part of body.toString("utf8").split("\0")) if (part) fields[part[0]] = part.slice(1);
          const code = fields.C ?? "";
          if (code === "57P03") return finish({ state: "starting", message: fields.M });
          return finish({ state: "error", code, message: fields.M ?? "unknown error" });
        }
      }
    });
  });
}

function listPgClusters() {
  // Debian layout: /etc/postgresql/<version>/<cluster>/postgresql.conf
  const base = "/etc/postgresql";
  if (!exists(base)) return [];
  const clusters = [];
  for (const version of fs.readdirSync(base)) {
    const dir = path.join(base, version);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir)) {
      const conf = path.join(dir, name, "postgresql.conf");
      if (!exists(conf)) continue;
      const m = /^\s*port\s*=\s*(\d+)/m.exec(fs.readFileSync(conf, "utf8"));
      clusters.push({
        version,
        name,
        port: m ? Number(m[1]) : 5432,
        hba: path.join(dir, name, "pg_hba.conf"),
      });
    }
  }
  return clusters.sort((a, b) => Number(b.version) - Number(a.version));
}

function installedPgVersions() {
  const base = "/usr/lib/postgresql";
  if (!exists(base)) return [];
  return fs
    .readdirSync(base)
    .filter((v) => exists(path.join(base, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
}

function findCluster(port) {
  const clusters = listPgClusters();
  return clusters.find((c) => c.port === port) ?? null;
}

function pgCtl(cluster, action, okCodes = [0]) {
  return run("pg_ctlcluster", ["--skip-systemctl-redirect", cluster.version, cluster.name, action], {
    okCodes,
  });
}

async function startLocalPostgres(target) {
  const startCmd = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";
  let cluster = findCluster(target.port);
  if (!cluster) {
    if (installedPgVersions().length === 0) {
      aptInstall(
        ["postgresql"],
        `PostgreSQL is not installed: run 'sudo apt-get install -y postgresql && sudo ${startCmd}' (or set DATABASE_URL)`,
      );
    }
    cluster = findCluster(target.port);
    const others = listPgClusters();
    if (!cluster && others.length > 0) {
      const list = others.map((c) => `${c.version}/${c.name} on port ${c.port}`).join(", ");
      throw new EnsureError(
        `no PostgreSQL cluster is set up for port ${target.port} (found ${list}): fix DATABASE_URL`,
      );
    }
    if (!cluster) {
      // the package is installed but its cluster was removed: make Debian's default one again
      const version = installedPgVersions()[0];
      if (!version || !isRoot()) {
        throw new EnsureError(
          `no PostgreSQL cluster listens on port ${target.port}: run 'sudo pg_createcluster ${version ?? "15"} main -p ${target.port} --start'`,
        );
      }
      log(`creating PostgreSQL cluster ${version}/main on port ${target.port}`);
      run("pg_createcluster", [version, "main", "-p", String(target.port)]);
      cluster = findCluster(target.port);
      if (!cluster) throw new EnsureError(`pg_createcluster did not create a cluster on port ${target.port}`);
    }
  }
  if (!isRoot()) {
    throw new EnsureError(
      `PostgreSQL is not running on ${target.host}:${target.port}: run 'sudo pg_ctlcluster --skip-systemctl-redirect ${cluster.version} ${cluster.name} start'`,
    );
  }
  log(`starting PostgreSQL cluster ${cluster.version}/${cluster.name}`);
  // exit code 2: already running (e.g. the package's postinst started it)
  pgCtl(cluster, "start", [0, 2]);
  return cluster;
}

/** Puts `host all all 127.0.0.1/32 trust` (and ::1) before the other host lines of pg_hba.conf and reloads. */
function trustLocalhost(cluster) {
  const marker = "# added by sluice scripts/ensure-services.mjs";
  const wanted = [
    "host    all    all    127.0.0.1/32    trust",
    "host    all    all    ::1/128         trust",
  ];
  const same = (a, b) => a.trim().split(/\s+/).join(" ") === b.trim().split(/\s+/).join(" ");
  const lines = fs
    .readFileSync(cluster.hba, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== marker && !wanted.some((w) => same(l, w)));
  let at = lines.findIndex((l) => /^\s*host(ssl|nossl|gssenc|nogssenc)?\s/.test(l));
  if (at < 0) at = lines.length;
  lines.splice(at, 0, marker, ...wanted);
  fs.writeFileSync(cluster.hba, lines.join("\n"));
  log(`made ${cluster.hba} trust 127.0.0.1 and ::1; reloading`);
  pgCtl(cluster, "reload");
}

/** Makes sure PostgreSQL at `url` accepts connections (starting or installing the local one when needed). */
export async function ensurePostgres(url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL) {
  const target = parsePgUrl(url);
  const where = `${target.host}:${target.port}`;
  const waitReady = (timeoutMs) =>
    waitUntil(
      async () => {
        const st = await probePostgres(target);
        return st.state === "down" || st.state === "starting" ? null : st;
      },
      { timeoutMs, intervalMs: 250, what: `PostgreSQL on ${where} to accept connections` },
    );

  let st = await probePostgres(target);
  if (st.state === "down") {
    if (!target.local) {
      throw new EnsureError(
        `PostgreSQL at ${where} (DATABASE_URL) is not reachable (${st.message}): start it or fix DATABASE_URL`,
      );
    }
    log(`PostgreSQL is not reachable on ${where}`);
    await startLocalPostgres(target);
    st = await waitReady(60_000);
  } else if (st.state === "starting") {
    log(`PostgreSQL on ${where} is starting up; waiting`);
    st = await waitReady(60_000);
  }

  const authProblem =
    (st.state === "auth" && !target.hasPassword) || (st.state === "error" && st.code === "28000");
  if (authProblem) {
    const cluster = target.local ? findCluster(target.port) : null;
    if (!cluster || !isRoot()) {
      const hba = cluster?.hba ?? "/etc/postgresql/<version>/main/pg_hba.conf";
      throw new EnsureError(
        `PostgreSQL on ${where} asks user ${target.user} for a password: add 'host all all 127.0.0.1/32 trust' before the other host lines of ${hba} and reload it, or put a password in DATABASE_URL`,
      );
    }
    trustLocalhost(cluster);
    st = await waitUntil(
      async () => {
        const s = await probePostgres(target);
        return s.state === "ready" ? s : null;
      },
      {
        timeoutMs: 15_000,
        intervalMs: 250,
        what: `PostgreSQL on ${where} to accept ${target.user} with trust`,
      },
    );
  }
  if (st.state === "error") {
    throw new EnsureError(
      `PostgreSQL on ${where} refused ${target.user}@${target.database}: ${st.message} (${st.code})`,
    );
  }
  log(`PostgreSQL is up on ${where}${st.state === "auth" ? " (password auth)" : ""}`);
  return target;
}

// ---------------------------------------------------------------------------------------------------------
// NATS

function parseNatsUrl(url) {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  return { host, port: Number(u.port || 4222), local: LOCAL_HOSTS.has(host) };
}

/** Reads the INFO line a NATS server sends on connect: {state: "up", info} or {state: "down"|"other"}. */
export function probeNats({ host, port }, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let text = "";
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    let connected = false;
    socket.on("connect", () => (connected = true));
    const timer = setTimeout(
      () =>
        finish(
          connected
            ? { state: "other", message: "no INFO line in time" }
            : { state: "down", message: "timeout" },
        ),
      timeoutMs,
    );
    socket.on("error", (err) => finish({ state: "down", message: err.code ?? err.message }));
    socket.on("close", () => finish({ state: "down", message: "connection closed" }));
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
      const eol = text.indexOf("\r\n");
      if (eol < 0 && text.length < 64 * 1024) return;
      const line = eol < 0 ? text : text.slice(0, eol);
      const m = /^INFO\s+(\{.*\})\s*$/.exec(line);
      if (!m) return finish({ state: "other", message: line.slice(0, 80) });
      try {
        finish({ state: "up", info: JSON.parse(m[1]) });
      } catch {
        finish({ state: "other", message: "unparsable INFO line" });
      }
    });
  });
}

function findNatsServer() {
  return which("nats-server", ["/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/usr/bin"]);
}

function tail(file, n = 10) {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
}

/**
 * Makes sure a NATS server with JetStream answers at `url`. When the local one is down it is started:
 * with `dataDir` (npm start) as a detached `nats-server ... -sd <dataDir>/nats` logging to <dataDir>/nats.log
 * with its pid in <dataDir>/nats.pid; without (CI, npm test) through start-stop-daemon as root, like the
 * machine's own service, or else the same way under <repo>/.sluice.
 */
export async function ensureNats(url = process.env.NATS_URL ?? DEFAULT_NATS_URL, { dataDir } = {}) {
  const target = parseNatsUrl(url);
  const where = `${target.host}:${target.port}`;
  let st = await probeNats(target);
  if (st.state === "other")
    throw new EnsureError(`something on ${where} answers but is not a NATS server (${st.message})`);

  if (st.state === "down") {
    if (!target.local)
      throw new EnsureError(
        `NATS at ${where} (NATS_URL) is not reachable (${st.message}): start it or fix NATS_URL`,
      );
    log(`NATS is not reachable on ${where}`);
    let bin = findNatsServer();
    if (!bin) {
      aptInstall(
        ["nats-server"],
        "nats-server is not installed: run 'sudo apt-get install -y nats-server' (or put nats-server from https://github.com/nats-io/nats-server/releases on PATH)",
      );
      bin = findNatsServer();
      if (!bin) throw new EnsureError("apt-get installed nats-server but no nats-server binary was found");
      st = await probeNats(target); // the package may have started one
    }
    if (st.state !== "up") {
      const listen = target.host === "localhost" ? "127.0.0.1" : target.host;
      const args = ["-a", listen, "-p", String(target.port), "-js"];
      let exited = null;
      let logFile;
      if (!dataDir && isRoot() && which("start-stop-daemon", ["/usr/sbin", "/sbin"])) {
        // the machine's own service on 4222 uses these; another port gets its own store
        const suffix = target.port === 4222 ? "" : `-${target.port}`;
        const storeDir = `/var/lib/nats-server${suffix}`;
        logFile = `/var/log/nats-server${suffix}.log`;
        fs.mkdirSync(storeDir, { recursive: true });
        log(`starting ${bin} with start-stop-daemon (store ${storeDir}, log ${logFile})`);
        run(which("start-stop-daemon", ["/usr/sbin", "/sbin"]), [
          "--start", "--oknodo", "--background", "--make-pidfile", "--pidfile", `/run/sluice-nats-${target.port}.pid`,
          "--exec", bin, "--", ...args, "-sd", storeDir, "-l", logFile,
        ]); // prettier-ignore
      } else {
        const dir = path.resolve(dataDir ?? path.join(ROOT, ".sluice"));
        const storeDir = path.join(dir, "nats");
        logFile = path.join(dir, "nats.log");
        fs.mkdirSync(storeDir, { recursive: true });
        const out = fs.openSync(logFile, "a");
        const child = spawn(bin, [...args, "-sd", storeDir], { detached: true, stdio: ["ignore", out, out] });
        fs.closeSync(out);
        child.on("exit", (code, signal) => (exited = code ?? signal));
        child.unref();
        fs.writeFileSync(path.join(dir, "nats.pid"), `${child.pid}\n`);
        log(
          `started nats-server (pid ${child.pid}, store ${storeDir}, log ${logFile}; stop it with: kill $(cat ${path.join(dir, "nats.pid")}))`,
        );
      }
      st = await waitUntil(
        async () => {
          if (exited !== null)
            throw new EnsureError(`nats-server exited (${exited}); ${logFile} says:\n${tail(logFile)}`);
          const s = await probeNats(target, 1000);
          return s.state === "up" ? s : null;
        },
        { timeoutMs: 30_000, intervalMs: 200, what: `NATS on ${where} (log: ${logFile})` },
      );
    }
  }
  if (st.info.jetstream !== true) {
    throw new EnsureError(
      `NATS on ${where} runs without JetStream: restart nats-server with -js (and -sd <store dir>)`,
    );
  }
  log(`NATS ${st.info.version ?? ""} with JetStream is up on ${where}`);
  return { ...target, info: st.info };
}

/** True when nothing listens on 127.0.0.1:`port`. */
function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function freeLocalPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function readText(file) {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * npm start's NATS with authentication and TLS: a nats-server of this installation's own on 127.0.0.1,
 * configured by the server's `nats-config --tls-generate` (the installation's operator and accounts, a
 * full resolver; a certificate from the installation's local CA, made in <dataDir>/tls on the first
 * start; server/src/nats-config.ts), everything else under <dataDir>/nats-server: nats-server.conf,
 * its certificate and key, store/, jwt/, nats.log, nats.pid and port. One still running from an
 * earlier start (its pid alive, its port asking for credentials and TLS) is used again, and told to
 * reload (SIGHUP) when its certificate was issued anew (near its end); one from before TLS is
 * stopped and started again. It keeps running after npm start exits.
 * Port: the one it had, else `preferredPort` (4223) when free, else any free port.
 * Returns its tls:// URL, its pid and the CA file clients trust (SLUICE_NATS_CA_FILE).
 */
export async function ensureSecuredNats({ dataDir, configTool, preferredPort = 4223 }) {
  const dir = path.join(dataDir, "nats-server");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(dir, "nats.pid");
  const portFile = path.join(dir, "port");
  const configFile = path.join(dir, "nats-server.conf");
  const certFile = path.join(dir, "nats-server-cert.pem");
  const logFile = path.join(dir, "nats.log");
  const caFile = path.join(dataDir, "tls", "ca.pem");
  // The certificate and key go beside the configuration (in `dir`) whatever file is written.
  const writeConfig = (port, out = configFile) =>
    run(
      process.execPath,
      [
        configTool,
        "--listen", `127.0.0.1:${port}`,
        "--store", path.join(dir, "store"),
        "--resolver", path.join(dir, "jwt"),
        "--tls-generate",
        "--tls-dir", dir,
        "--out", out,
      ], // prettier-ignore
      { env: { ...process.env, SLUICE_DATA_DIR: dataDir } },
    );
  const savedPort = Number(readText(portFile)) || null;
  const savedPid = Number(readText(pidFile)) || null;
  if (savedPort && savedPid && alive(savedPid)) {
    const st = await probeNats({ host: "127.0.0.1", port: savedPort });
    if (st.state === "up" && st.info.auth_required === true) {
      if (st.info.tls_required === true) {
        // Its certificate is issued anew when near its end; the configuration it runs on stays as
        // it is (a reload applies TLS changes, not a new operator JWT), the fresh one is dropped.
        const before = readText(certFile);
        writeConfig(savedPort, `${configFile}.next`);
        fs.rmSync(`${configFile}.next`, { force: true });
        if (readText(certFile) !== before) {
          process.kill(savedPid, "SIGHUP");
          log(`nats-server's certificate was issued anew: told it to reload (pid ${savedPid})`);
        }
        log(`NATS with credentials and TLS is up on 127.0.0.1:${savedPort} (pid ${savedPid})`);
        return { url: `tls://127.0.0.1:${savedPort}`, pid: savedPid, caFile };
      }
      // Started by an npm start from before TLS: started again, with TLS.
      log(`stopping the nats-server without TLS started earlier (pid ${savedPid}) to start it with TLS`);
      process.kill(savedPid, "SIGTERM");
      await waitUntil(() => !alive(savedPid), {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: `nats-server (pid ${savedPid}) to stop`,
      });
    }
  }
  let bin = findNatsServer();
  if (!bin) {
    aptInstall(
      ["nats-server"],
      "nats-server is not installed: run 'sudo apt-get install -y nats-server' (or put nats-server from https://github.com/nats-io/nats-server/releases on PATH)",
    );
    bin = findNatsServer();
    if (!bin) throw new EnsureError("apt-get installed nats-server but no nats-server binary was found");
  }
  let port;
  if (savedPort && (await portFree(savedPort))) port = savedPort;
  else if (await portFree(preferredPort)) port = preferredPort;
  else port = await freeLocalPort();
  writeConfig(port);
  const out = fs.openSync(logFile, "a");
  const child = spawn(bin, ["-c", configFile], { detached: true, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  let exited = null;
  child.on("exit", (code, signal) => (exited = code ?? signal));
  child.unref();
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  fs.writeFileSync(portFile, `${port}\n`);
  log(
    `started nats-server with credentials and TLS (pid ${child.pid}, 127.0.0.1:${port}, config ${configFile}, CA ${caFile}, log ${logFile}; stop it with: kill $(cat ${pidFile}))`,
  );
  const st = await waitUntil(
    async () => {
      if (exited !== null)
        throw new EnsureError(`nats-server exited (${exited}); ${logFile} says:\n${tail(logFile)}`);
      const s = await probeNats({ host: "127.0.0.1", port }, 1000);
      return s.state === "up" ? s : null;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `NATS on 127.0.0.1:${port} (log: ${logFile})` },
  );
  if (st.info.auth_required !== true || st.info.jetstream !== true || st.info.tls_required !== true)
    throw new EnsureError(`the nats-server on 127.0.0.1:${port} runs without credentials, TLS or JetStream`);
  return { url: `tls://127.0.0.1:${port}`, pid: child.pid, caFile };
}

// ---------------------------------------------------------------------------------------------------------
// Chromium (browser tests)

export function ensureChromium(bin = "/usr/bin/chromium") {
  if (exists(bin)) {
    log(`Chromium found at ${bin}`);
    return bin;
  }
  aptInstall(["chromium"], `Chromium is not installed at ${bin}: run 'sudo apt-get install -y chromium'`);
  if (!exists(bin)) throw new EnsureError(`apt-get installed chromium but ${bin} is missing`);
  return bin;
}

// ---------------------------------------------------------------------------------------------------------

/** Runs `fn`; on an EnsureError prints its one line and exits 1. */
export async function runOrExit(fn) {
  try {
    return await fn();
  } catch (err) {
    log(err instanceof EnsureError ? err.message : `error: ${err?.message ?? err}`);
    if (!(err instanceof EnsureError) && process.env.SLUICE_DEBUG) console.error(err);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const flags = new Set(process.argv.slice(2));
  const known = new Set(["--deps", "--postgres", "--nats", "--chromium", "--help"]);
  const unknown = [...flags].filter((f) => !known.has(f));
  if (unknown.length || flags.has("--help")) {
    console.log("usage: node scripts/ensure-services.mjs [--deps] [--postgres] [--nats] [--chromium]");
    process.exit(unknown.length ? 2 : 0);
  }
  if (flags.size === 0) ["--postgres", "--nats"].forEach((f) => flags.add(f));
  await runOrExit(async () => {
    if (flags.has("--deps")) ensureDeps();
    if (flags.has("--postgres")) await ensurePostgres();
    if (flags.has("--nats")) await ensureNats();
    if (flags.has("--chromium")) ensureChromium();
  });
}
