import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
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
  /** With `tls`: the test CA (PEM) that signed nats-server's certificate; clients must trust it. */
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

/** A CA of the test's own and a certificate for 127.0.0.1 signed by it (openssl). */
function testCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Sluice test CA"); // prettier-ignore
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"); // prettier-ignore
  fs.writeFileSync(at("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext"); // prettier-ignore
  return { caFile: at("ca.pem"), certFile: at("server.pem"), keyFile: at("server.key") };
}

export async function startSecuredNats(
  dataDir: string,
  options: { tls?: boolean } = {},
): Promise<SecuredNats> {
  const identity = NatsIdentity.loadOrCreate(dataDir);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-secured-nats-"));
  const configFile = path.join(dir, "nats-server.conf");
  const certificates = options.tls ? testCertificates(dir) : null;
  fs.writeFileSync(
    configFile,
    await identity.serverConfig({
      listen: `127.0.0.1:${port}`,
      storeDir: path.join(dir, "store"),
      resolverDir: path.join(dir, "jwt"),
      ...(certificates ? { tls: { certFile: certificates.certFile, keyFile: certificates.keyFile } } : {}),
    }),
    { mode: 0o600 },
  );
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
    url: `${certificates ? "tls" : "nats"}://127.0.0.1:${port}`,
    caFile: certificates?.caFile,
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
