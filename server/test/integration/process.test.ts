import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { CREATE, simplePipeline } from "../support/documents";
import { deleteStreams } from "../support/nats";
import { spawnServer, type ServerProcess } from "../support/process";
import { eventually } from "../support/wait";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
let db: TestDatabase;
let dataDir: string;
/** A prefix of each test's own on the shared NATS: each test is an installation (PROTOCOL.md 4.3). */
let SLUICE_NATS_PREFIX: string;
let proc: ServerProcess | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-proc-"));
  SLUICE_NATS_PREFIX = `test_${crypto.randomBytes(4).toString("hex")}`;
});
afterEach(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill("SIGKILL");
    await proc.exited;
  }
  proc = undefined;
  await db.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  await deleteStreams(SLUICE_NATS_PREFIX);
});

async function post(url: string, token: string, query: string, variables?: unknown) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

it("stops with one message naming every bad variable", async () => {
  proc = spawnServer({ PORT: "not-a-port", DATABASE_URL: "mysql://nope", SLUICE_DATA_DIR: dataDir });
  expect(await proc.exited).toBe(2);
  expect(proc.stderr()).toMatch(/Invalid configuration/);
  expect(proc.stderr()).toMatch(/PORT="not-a-port"/);
  expect(proc.stderr()).toMatch(/DATABASE_URL="mysql:\/\/nope"/);
});

it("generates an admin token on the first start, prints it once, and keeps it", async () => {
  const env = { DATABASE_URL: db.url, NATS_URL, SLUICE_NATS_PREFIX, SLUICE_DATA_DIR: dataDir };
  const started = (proc = spawnServer(env));
  const url = await started.listening;
  const token = await eventually(
    async () => /Admin token:\s+(\S+)/.exec(started.stderr())?.[1],
    5000,
    "the admin token on stderr",
  );
  expect(token).toBeDefined();
  expect(proc.stderr()).toContain(url);
  expect(fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim()).toBe(token);
  expect(
    (await post(url, token!, `{ actionTypes { id { provider } } }`)).body.data.actionTypes.length,
  ).toBeGreaterThan(0);
  expect(
    (await post(url, "wrong-token-wrong", `{ actionTypes { id { provider } } }`)).body.errors[0].extensions
      .code,
  ).toBe("UNAUTHENTICATED");
  proc.child.kill("SIGTERM");
  expect(await proc.exited).toBe(0);

  proc = spawnServer(env);
  const url2 = await proc.listening;
  expect(proc.stderr()).not.toContain("Admin token");
  expect((await post(url2, token!, `{ actionTypes { id { provider } } }`)).status).toBe(200);
});

it("on SIGTERM stops accepting, finishes the request in flight, and exits 0", async () => {
  const token = "sigterm-test-token-0123456789";
  proc = spawnServer({
    DATABASE_URL: db.url,
    NATS_URL,
    SLUICE_NATS_PREFIX,
    SLUICE_DATA_DIR: dataDir,
    SLUICE_ADMIN_TOKEN: token,
  });
  const url = await proc.listening;
  expect(
    (await post(url, token, CREATE, { input: simplePipeline("held") })).body.data.createPipeline.version,
  ).toBe(1);

  // Hold the pipeline's row so that an update stays in flight.
  const holder = new Client({ connectionString: db.url });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT id FROM pipelines WHERE name = 'held' FOR UPDATE");
  const inFlight = post(
    url,
    token,
    `mutation ($input: PipelineInput!) { updatePipeline(input: $input, expectedVersion: 1) { version } }`,
    {
      input: simplePipeline("held", { executionMode: "QUEUED" }),
    },
  );
  for (let i = 0; i < 100; i++) {
    const waiting = await holder.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
    );
    if (waiting.rows[0].n > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  proc.child.kill("SIGTERM");
  // It stops accepting at once, and waits for the request held by the lock.
  await eventually(
    () =>
      fetch(url.replace("/graphql", "/healthz")).then(
        () => false,
        () => true,
      ),
    5000,
    "the server to stop accepting",
  );
  expect(proc.child.exitCode).toBeNull();

  await holder.query("COMMIT");
  await holder.end();
  const finished = await inFlight;
  expect(finished.status).toBe(200);
  expect(finished.body.data.updatePipeline.version).toBe(2);
  expect(await proc.exited).toBe(0);
});
