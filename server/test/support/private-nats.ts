import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * A nats-server with JetStream of a test's own: its own port, address and store, so the test can
 * stop and restart it (by the pid it started, never by name) without touching the shared NATS.
 */
export interface PrivateNats {
  url: string;
  host: string;
  port: number;
  /** SIGKILL, then start again on the same port and store: JetStream keeps what it stored. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listening(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startPrivateNats(host = "127.0.0.1"): Promise<PrivateNats> {
  const port = await freePort(host);
  const store = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-"));
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn("nats-server", ["-a", host, "-p", String(port), "-js", "-sd", store], { stdio: "ignore" });
    await listening(host, port, 10_000);
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };
  await launch();
  return {
    url: `nats://${host}:${port}`,
    host,
    port,
    async restart(downMs = 1000) {
      await kill();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await launch();
    },
    async stop() {
      await kill();
      fs.rmSync(store, { recursive: true, force: true });
    },
  };
}
