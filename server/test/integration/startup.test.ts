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
import { deleteStreams } from "../support/nats";
import { spawnServer } from "../support/process";
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
