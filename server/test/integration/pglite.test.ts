import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CREATE, DOCUMENT, simplePipeline } from "../support/documents";
import { deleteStreams } from "../support/nats";
import { spawnServer } from "../support/process";

const TOKEN = "pglite-test-token-0123456789";

async function gql(url: string, query: string, variables?: unknown): Promise<any> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

/**
 * With DATABASE_URL unset the server runs on embedded PGlite under its data directory. Two starts,
 * the first running every migration on a new PGlite: slow on a busy machine, hence the time limit.
 */
it("runs on PGlite and keeps its data across restarts of the process", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-pglite-"));
  const env = {
    SLUICE_DATA_DIR: dataDir,
    SLUICE_ADMIN_TOKEN: TOKEN,
    NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    // A prefix of its own on the shared NATS: the default one may be claimed by another installation.
    SLUICE_NATS_PREFIX: `test_${crypto.randomBytes(4).toString("hex")}`,
  };
  try {
    const first = spawnServer(env);
    const url = await first.listening;
    expect(first.stdout()).toMatch(/"database":"pglite"/);
    expect((await gql(url, CREATE, { input: simplePipeline("embedded") })).data.createPipeline.version).toBe(
      1,
    );
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(fs.readdirSync(path.join(dataDir, "pglite")).length).toBeGreaterThan(0);

    const second = spawnServer(env);
    const url2 = await second.listening;
    const read = await gql(url2, DOCUMENT, { name: "embedded" });
    expect(read.data.pipeline).toMatchObject({ version: 1, document: simplePipeline("embedded") });
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    await deleteStreams(env.SLUICE_NATS_PREFIX);
  }
}, 120_000);
