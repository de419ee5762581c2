import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { freePort } from "./private-nats";
import { eventually } from "./wait";

/** Debian's nats-server (2.9), or the one on the PATH. */
const NATS_SERVER = fs.existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";

/** One node of a test's own NATS cluster. */
export interface ClusterNode {
  /** The server_name JetStream reports (stream info's cluster.leader). */
  name: string;
  url: string;
  port: number;
  pid(): number | null;
  running(): boolean;
  /** SIGKILL: a crash, nothing flushed. */
  kill9(): Promise<void>;
  /** Starts it again on the same ports, configuration and store. */
  start(): Promise<void>;
}

export interface NatsCluster {
  nodes: ClusterNode[];
  /** Every node's client URL, comma separated, as NATS_URL and an agent's --nats take them. */
  url: string;
  node(name: string): ClusterNode;
  /** Kills the nodes (by the pids this started) and removes their stores. */
  stop(): Promise<void>;
}

async function listening(host: string, port: number, timeoutMs: number): Promise<void> {
  await eventually(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, host, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on("error", () => resolve(false));
      }),
    timeoutMs,
    `nats-server on ${host}:${port}`,
  );
}

/**
 * A cluster of `size` nats-servers with JetStream on loopback ports of its own: each node has its
 * own configuration file and store directory, and routes to every other node. Resolves once the
 * cluster has elected its JetStream meta leader (JetStream answers through every node).
 */
export async function startNatsCluster(size = 3, host = "127.0.0.1"): Promise<NatsCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-cluster-"));
  const clusterName = `sluice_test_${path.basename(dir).replace(/[^A-Za-z0-9]/g, "")}`;
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({ client: await freePort(host), route: await freePort(host) })),
  );
  const routes = ports.map((p) => `nats-route://${host}:${p.route}`);
  const nodes: ClusterNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const store = path.join(dir, name, "store");
    fs.mkdirSync(store, { recursive: true });
    const configFile = path.join(dir, name, "nats.conf");
    fs.writeFileSync(
      configFile,
      [
        `server_name: ${name}`,
        `listen: "${host}:${p.client}"`,
        `jetstream { store_dir: "${store}" }`,
        `cluster {`,
        `  name: ${clusterName}`,
        `  listen: "${host}:${p.route}"`,
        `  routes: [${routes
          .filter((_, j) => j !== i)
          .map((r) => `"${r}"`)
          .join(", ")}]`,
        `}`,
        "",
      ].join("\n"),
    );
    let child: ChildProcess | null = null;
    const running = () => child !== null && child.exitCode === null && child.signalCode === null;
    return {
      name,
      url: `nats://${host}:${p.client}`,
      port: p.client,
      pid: () => (running() ? child!.pid! : null),
      running,
      async kill9() {
        const c = child;
        if (!c || !running()) return;
        const exited = new Promise((resolve) => c.once("exit", resolve));
        c.kill("SIGKILL");
        await exited;
      },
      async start() {
        if (running()) return;
        child = spawn(NATS_SERVER, ["-c", configFile], { stdio: "ignore" });
        await listening(host, p.client, 10_000);
      },
    };
  });
  const cluster: NatsCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(","),
    node: (name) => {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new Error(`no node ${name} in the cluster`);
      return found;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill9()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await jetStreamAnswers(cluster.url, 30_000);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** Resolves once JetStream answers an account-info request (the cluster has a meta leader). */
export async function jetStreamAnswers(url: string, timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: url.split(","), name: "sluice-test-cluster" });
  try {
    await eventually(
      async () => (await (await jetstreamManager(nc, { timeout: 2000 })).getAccountInfo()) !== undefined,
      timeoutMs,
      "a JetStream meta leader",
    );
  } finally {
    await nc.close();
  }
}
