import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {
  NATS_TLS_CERT_FILE,
  NATS_TLS_KEY_FILE,
  certificateHosts,
  ensureLocalCa,
  issueCertificate,
} from "../../src/messaging/local-ca";
import { NatsIdentity } from "../../src/messaging/nats-identity";
import { freePort } from "./private-nats";

/**
 * A nats-server of the test's own in the secured configuration Sluice writes (decentralized JWT:
 * the operator, system and Sluice accounts of the identity in `dataDir`, a full resolver), on a
 * free port. A server started with the same SLUICE_DATA_DIR holds the same identity.
 */
export interface SecuredNats {
  url: string;
  port: number;
  identity: NatsIdentity;
  configFile: string;
  /** With TLS: the local CA (PEM) that signed nats-server's certificate; clients must trust it. */
  caFile: string | undefined;
  /** What nats-server printed (its errors name refused connections). */
  log(): string;
  stop(): Promise<void>;
}

async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A nats-server started on a configuration written beforehand (by Sluice's `nats-config.js`, or by
 * startSecuredNats below) that listens on 127.0.0.1:`port`; `dir` (its store, its files) is removed
 * by stop().
 */
export async function startNatsServerWithConfig(options: {
  configFile: string;
  port: number;
  identity: NatsIdentity;
  caFile?: string;
  dir: string;
}): Promise<SecuredNats> {
  const { configFile, port, identity, caFile, dir } = options;
  let log = "";
  const child: ChildProcess = spawn("nats-server", ["-c", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  try {
    await listening(port, 15_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}; it said:\n${log}`, { cause: error });
  }
  return {
    url: `${caFile ? "tls" : "nats"}://127.0.0.1:${port}`,
    caFile,
    port,
    identity,
    configFile,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * With `tls`, nats-server's certificate comes from the installation's local CA in `dataDir/tls`
 * (made there when missing, as `nats-config.js --tls-generate` does).
 */
export async function startSecuredNats(
  dataDir: string,
  options: { tls?: boolean } = {},
): Promise<SecuredNats> {
  const identity = NatsIdentity.loadOrCreate(dataDir);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-secured-nats-"));
  const configFile = path.join(dir, "nats-server.conf");
  let tls: { certFile: string; keyFile: string } | null = null;
  let caFile: string | undefined;
  if (options.tls) {
    const ca = await ensureLocalCa(dataDir);
    tls = { certFile: path.join(dir, NATS_TLS_CERT_FILE), keyFile: path.join(dir, NATS_TLS_KEY_FILE) };
    await issueCertificate(ca, { ...tls, hosts: certificateHosts("127.0.0.1"), commonName: "nats-server" });
    caFile = ca.caFile;
  }
  fs.writeFileSync(
    configFile,
    await identity.serverConfig({
      listen: `127.0.0.1:${port}`,
      storeDir: path.join(dir, "store"),
      resolverDir: path.join(dir, "jwt"),
      ...(tls ? { tls } : {}),
    }),
    { mode: 0o600 },
  );
  return startNatsServerWithConfig({ configFile, port, identity, dir, ...(caFile ? { caFile } : {}) });
}
