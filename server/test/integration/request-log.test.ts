/**
 * The request log of the real server process: one JSON line per request naming the operation, the
 * principal, the outcome and the duration; a malformed body leaves that one line, with no stack and
 * nothing of the body, however many arrive; times are ISO 8601.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deleteStreams } from "../support/nats";
import { spawnServer, type ServerProcess } from "../support/process";
import { eventually } from "../support/wait";

const TOKEN = "request-log-admin-token-0123456789";
const SECRET = "hunter2-do-not-log-me";
let db: TestDatabase;
let dataDir: string;
let prefix: string;
let proc: ServerProcess;
let url: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-log-"));
  prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
  proc = spawnServer({
    DATABASE_URL: db.url,
    NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    SLUICE_NATS_PREFIX: prefix,
    SLUICE_DATA_DIR: dataDir,
    SLUICE_ADMIN_TOKEN: TOKEN,
  });
  url = await proc.listening;
});
afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill("SIGTERM");
    await proc.exited;
  }
  await db.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  await deleteStreams(prefix);
});

type Line = Record<string, unknown>;
const lines = (): Line[] =>
  proc
    .stdout()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);
const requestLines = () => lines().filter((l) => l.msg === "request");

it("logs one line per GraphQL request with operation, principal, outcome and duration", async () => {
  const post = (body: unknown, token?: string) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  expect(
    (await post({ query: "query Listing { pipelines(first: 1) { nodes { name } } }" }, TOKEN)).status,
  ).toBe(200);
  await post({ query: "query Sneaky { pipelines(first: 1) { nodes { name } } }" });
  const [ok, refused] = await eventually(async () => {
    const found = ["Listing", "Sneaky"].map((name) => requestLines().find((l) => l.operation === name));
    return found.every(Boolean) ? found : undefined;
  });
  expect(ok).toMatchObject({
    method: "POST",
    path: "/graphql",
    status: 200,
    principal: "user/admin",
    outcome: "ok",
  });
  expect(ok!.operationType).toBe("query");
  expect(typeof ok!.durationMs).toBe("number");
  expect(String(ok!.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(refused).toMatchObject({ principal: "anonymous", outcome: "UNAUTHENTICATED" });
  expect(proc.stdout()).not.toContain(TOKEN);
});

it("1,000 malformed bodies: one line each, no stack, nothing of the body", async () => {
  const before = requestLines().length;
  const body = `{"query": "{ pipelines { nodes { name } } }", "token": "${SECRET}"`; // no closing brace
  for (let batch = 0; batch < 20; batch++) {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
          body,
        }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect((await answer.json()) as unknown).toMatchObject({
        errors: [{ extensions: { code: "BAD_REQUEST" } }],
      });
    }
  }
  const malformed = await eventually(async () => {
    const found = requestLines().filter((l) => l.outcome === "entity.parse.failed");
    return found.length >= 1000 ? found : undefined;
  });
  expect(malformed).toHaveLength(1000);
  expect(requestLines().length - before).toBe(1000);
  expect(malformed[0]).toMatchObject({
    status: 400,
    path: "/graphql",
    principal: "user/admin",
    problem: "The request body is not valid JSON.",
  });
  const everything = proc.stdout() + proc.stderr();
  expect(everything).not.toContain(SECRET);
  expect(everything).not.toMatch(/"stack"|SyntaxError|\n\s+at /);
});
