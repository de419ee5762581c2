/**
 * One installation per NATS prefix (PROTOCOL.md 4.3): the first server of an installation claims
 * the prefix; a server of another installation (another database) on it refuses to start — over
 * the API its messaging never comes up, and the server process exits 1 saying why — while the
 * first goes on, and a restart on the same database finds its own claim.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { natsNames } from "@sluice/protocol";
import { InstallationConflictError } from "../../src/messaging/installation-claim";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { connectNats, deleteStreams, NATS_URL } from "../support/nats";
import { SERVER_MAIN } from "../support/process";
import { simplePipeline, CREATE } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";

const prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
let first: TestServer;
const others: TestServer[] = [];
const databases: TestDatabase[] = [];

beforeAll(async () => {
  first = await startTestServer({ env: { SLUICE_NATS_PREFIX: prefix } });
});
afterAll(async () => {
  for (const other of others) await other.stop();
  await first.stop();
  for (const database of databases) await database.drop();
  await deleteStreams(prefix);
});

/** A second server on the prefix; `database` chooses its installation. */
async function secondServer(databaseUrl?: string): Promise<TestServer> {
  // The test owns the prefix's streams: env.NATS_URL keeps the server's own stop() from deleting them.
  const other = await startTestServer({
    env: { SLUICE_NATS_PREFIX: prefix, NATS_URL, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
  });
  others.push(other);
  return other;
}

it("lets the installation that claimed the prefix in, and stores one claim", async () => {
  const nc = await connectNats();
  try {
    const jsm = await jetstreamManager(nc);
    const names = natsNames(prefix);
    const stored = await jsm.streams.getMessage(names.streams.installation, {
      last_by_subj: names.subjects.installation,
    });
    const [{ id }] = await first.server.db.query(`SELECT id::text AS id FROM installation`);
    expect(stored?.json()).toMatchObject({ installationId: id });
    expect((await jsm.streams.info(names.streams.installation)).state.messages).toBe(1);
  } finally {
    await nc.close();
  }
});

it("refuses another installation on the prefix, naming it and the way out, and the first goes on", async () => {
  const intruder = await secondServer();
  await expect(intruder.server.messagingReady).rejects.toBeInstanceOf(InstallationConflictError);
  await expect(intruder.server.messagingReady).rejects.toThrow(
    new RegExp(`^The NATS prefix "${prefix}" belongs to another Sluice installation .*SLUICE_NATS_PREFIX`),
  );
  dataOf(await first.gql(CREATE, { input: simplePipeline("still-mine") }));
  const executions = await first.gql(
    `{ pipeline(name: "still-mine") { executions(first: 1) { nodes { id } } } }`,
  );
  expect(dataOf(executions).pipeline.executions.nodes).toHaveLength(1);
});

it("lets a server of the same installation (the same database) in", async () => {
  const again = await secondServer(first.database!.url);
  await expect(again.server.messagingReady).resolves.toBeUndefined();
});

it("exits 1 from the command line, saying why", async () => {
  const database = await createTestDatabase();
  databases.push(database);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-claim-"));
  try {
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        HOST: "127.0.0.1",
        PORT: "0",
        DATABASE_URL: database.url,
        NATS_URL,
        SLUICE_NATS_INSECURE: "1",
        SLUICE_NATS_PREFIX: prefix,
        SLUICE_DATA_DIR: dataDir,
        SLUICE_ADMIN_TOKEN: "an-admin-token-for-this-test",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(
      `sluice-server: The NATS prefix "${prefix}" belongs to another Sluice installation`,
    );
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
