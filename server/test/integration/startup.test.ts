/**
 * The server process when it cannot start: a port in use, a database or a NATS that does not
 * answer. Each gives one line on stderr naming what and where, exit 1, and never the ready line.
 * And every response carries the security headers.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { jetstreamManager } from "@nats-io/jetstream";
import { natsNames } from "@sluice/protocol";
import { connectNats, deleteStreams } from "../support/nats";
import { startNatsCluster } from "../support/nats-cluster";
import { spawnServer } from "../support/process";
import { TEST_MASTER_KEY } from "../support/server";
import { startTestServer } from "../support/server";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
let db: TestDatabase;
let dataDir: string;
let prefix: string;
beforeAll(async () => {
  db = await createTestDatabase();
});
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-start-"));
  prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
});
afterEach(async () => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  await deleteStreams(prefix);
});
afterAll(async () => {
  await db?.drop();
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs the server until it exits (it must, by itself); its exit code, stderr lines and stdout. */
async function failedStart(env: Record<string, string>) {
  const proc = spawnServer({
    DATABASE_URL: db.url,
    NATS_URL,
    SLUICE_NATS_PREFIX: prefix,
    SLUICE_DATA_DIR: dataDir,
    SLUICE_ADMIN_TOKEN: "startup-admin-token-0123456789",
    SLUICE_STARTUP_TIMEOUT_SECONDS: "2",
    // One database for every test, a data directory each: one master key for all of them.
    SLUICE_MASTER_KEY: TEST_MASTER_KEY,
    ...env,
  });
  const code = await proc.exited;
  const lines = proc
    .stderr()
    .split("\n")
    .filter((l) => l.trim() !== "");
  return { code, lines, stdout: proc.stdout() };
}

function expectNoBanner(stdout: string) {
  expect(stdout).not.toContain("sluice server listening");
  expect(stdout).not.toContain("Sluice is running");
}

it("a port in use: one line naming it, exit 1", async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const { code, lines, stdout } = await failedStart({ PORT: String(port) });
    expect(code).toBe(1);
    expect(lines).toEqual([`sluice-server: port ${port} on 127.0.0.1 is already in use (PORT, SLUICE_HOST)`]);
    expectNoBanner(stdout);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}, 30_000);

it("a database that does not answer: one line naming it (no password), exit 1", async () => {
  const port = await closedPort();
  const { code, lines, stdout } = await failedStart({
    DATABASE_URL: `postgres://sluice:sekrit-password@127.0.0.1:${port}/sluice`,
  });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(
      `^sluice-server: cannot open the database \\(postgres://127\\.0\\.0\\.1:${port}/sluice\\): .*ECONNREFUSED`,
    ),
  );
  expect(lines[0]).not.toContain("sekrit");
  expectNoBanner(stdout);
}, 30_000);

it("a NATS that refuses: one line naming it after the start-up timeout, exit 1", async () => {
  const port = await closedPort();
  const { code, lines, stdout } = await failedStart({ NATS_URL: `nats://127.0.0.1:${port}` });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(`^sluice-server: cannot reach NATS at nats://127\\.0\\.0\\.1:${port} within 2 s: `),
  );
  expectNoBanner(stdout);
}, 30_000);

it("three NATS replicas on a single nats-server: one line saying a cluster is needed, exit 1, nothing created", async () => {
  const { code, lines, stdout } = await failedStart({ SLUICE_NATS_REPLICAS: "3" });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^sluice-server: SLUICE_NATS_REPLICAS=3 needs a NATS cluster of at least 3 servers with JetStream, but the NATS server \S+ is not in a cluster\. .*SLUICE_NATS_REPLICAS=1/,
  );
  expectNoBanner(stdout);
  const nc = await connectNats();
  try {
    const jsm = await jetstreamManager(nc);
    await expect(jsm.streams.info(natsNames(prefix).streams.installation)).rejects.toThrow(
      /stream not found/,
    );
  } finally {
    await nc.close();
  }
}, 30_000);

it("three NATS replicas on a cluster of two: one line saying the cluster cannot hold them, exit 1", async () => {
  const cluster = await startNatsCluster(2);
  try {
    const { code, lines, stdout } = await failedStart({
      SLUICE_NATS_REPLICAS: "3",
      NATS_URL: cluster.url,
      SLUICE_STARTUP_TIMEOUT_SECONDS: "30",
    });
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^sluice-server: the NATS cluster "\S+" cannot hold 3 replicas of each stream \(SLUICE_NATS_REPLICAS=3\): no suitable peers for placement\. It needs at least 3 servers with JetStream/,
    );
    expectNoBanner(stdout);
  } finally {
    await cluster.stop();
  }
}, 60_000);

it("answers with security headers: no framing, no referrer, no sniffing, only its own scripts", async () => {
  const t = await startTestServer();
  try {
    for (const url of [t.url.replace(/\/graphql$/, "/healthz"), t.url]) {
      const response = await fetch(url, {
        method: url.endsWith("/graphql") ? "POST" : "GET",
        headers: { "content-type": "application/json" },
        body: url.endsWith("/graphql") ? JSON.stringify({ query: "{ __typename }" }) : undefined,
      });
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("upgrade-insecure-requests"); // plain HTTP behind a proxy
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-powered-by")).toBeNull();
    }
  } finally {
    await t.stop();
  }
});
