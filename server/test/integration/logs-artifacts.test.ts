/**
 * Reading what agents leave behind: log chunks in `<prefix>_LOGS` as lines (`actionLog` query and
 * subscription), and artifacts in the object store over HTTP with the API's token. The chunks and
 * objects are written here the way an agent writes them (PROTOCOL.md 5.4, 9).
 */
import crypto from "node:crypto";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { natsNames, type JobMessage } from "@sluice/protocol";
import { CREATE, shellBuild, sourceThen } from "../support/documents";
import { writeLogChunk } from "../support/logs";
import { connectNats } from "../support/nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

let t: TestServer;
let nc: NatsConnection;
let worker: TestWorker;
beforeAll(async () => {
  t = await startTestServer();
  nc = await connectNats();
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.actionTypeId.category === "Build" ? "hold" : { outcome: "Succeeded" },
  );
});
afterAll(async () => {
  await worker.stop();
  await nc.close();
  await t.stop();
});

let chunkSequence = 0;
const writeLog = (job: JobMessage, stream: "stdout" | "stderr" | "system", text: string) =>
  writeLogChunk(nc, t.natsPrefix, job, ++chunkSequence, stream, text);

const LOG = /* GraphQL */ `
  query ($id: ID!, $after: Int, $first: Int) {
    actionLog(actionExecutionId: $id, after: $after, first: $first) {
      nodes {
        sequence
        stream
        text
      }
      hasNextPage
      endCursor
      complete
    }
  }
`;

it("serves a job's log as lines, in pages, live, and its artifact over HTTP", async () => {
  dataOf(
    await t.gql(CREATE, {
      input: sourceThen("logged", {
        name: "Build",
        actions: [shellBuild("Make", "make", { outputArtifacts: [{ name: "Out" }] })],
      }),
    }),
  );
  await worker.waitFor((jobs) => jobs.some((j) => j.actionName === "Make"));
  const job = worker.jobs.find((j) => j.actionName === "Make")!;

  // Lines split across chunks, two streams interleaved.
  await writeLog(job, "system", "$ make\n");
  await writeLog(job, "stdout", "compiling a\ncompil");
  await writeLog(job, "stderr", "warning: x\n");
  await writeLog(job, "stdout", "ing b\n");

  const first = dataOf(await t.gql(LOG, { id: job.jobId, first: 2 })).actionLog;
  expect(first).toEqual({
    nodes: [
      { sequence: 1, stream: "system", text: "$ make" },
      { sequence: 2, stream: "stdout", text: "compiling a" },
    ],
    hasNextPage: true,
    endCursor: 2,
    complete: false,
  });
  const rest = dataOf(await t.gql(LOG, { id: job.jobId, after: 2 })).actionLog;
  expect(rest).toEqual({
    nodes: [
      { sequence: 3, stream: "stderr", text: "warning: x" },
      { sequence: 4, stream: "stdout", text: "compiling b" },
    ],
    hasNextPage: false,
    endCursor: 4,
    complete: false,
  });

  // Follow from line 3: the stored lines, then new ones, then completion when the job ends.
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const followed: string[] = [];
  const completed = new Promise<void>((resolve, reject) => {
    client.subscribe(
      {
        query: `subscription ($id: ID!) { actionLog(actionExecutionId: $id, after: 3) { sequence text } }`,
        variables: { id: job.jobId },
      },
      {
        next: (value: any) => followed.push(`${value.data.actionLog.sequence}:${value.data.actionLog.text}`),
        error: reject,
        complete: resolve,
      },
    );
  });
  await eventually(async () => followed.length === 1, 5000, "the stored line");
  await writeLog(job, "stdout", "linking\nno newline at the end");
  await eventually(async () => followed.length === 2, 5000, "the live line");

  // The artifact the job produced, stored the way an agent stores it.
  const bytes = Buffer.from(job.jobId);
  const store = await new Objm(nc).open(natsNames(t.natsPrefix).artifactsBucket);
  await store.putBlob({ name: `${job.executionId}/Out` }, bytes);
  await worker.finish(job, { outcome: "Succeeded" });
  await completed;
  expect(followed).toEqual(["4:compiling b", "5:linking", "6:no newline at the end"]);
  await client.dispose();

  const done = dataOf(await t.gql(LOG, { id: job.jobId, after: 4 })).actionLog;
  expect(done).toMatchObject({ hasNextPage: false, endCursor: 6, complete: true });

  const url = `${t.url.replace(/\/graphql$/, "")}/artifacts/${job.executionId}/Out`;
  expect((await fetch(url)).status).toBe(401);
  const response = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/gzip");
  const sha256 = crypto.createHash("sha256").update(bytes).digest("hex");
  expect(response.headers.get("x-checksum-sha256")).toBe(sha256);
  expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  const missing = await fetch(url.replace(/Out$/, "Nope"), {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(missing.status).toBe(404);
});

it("pages with the opaque cursor, and refuses one of another log or one that disagrees with after", async () => {
  const job = worker.jobs.find((j) => j.actionName === "Make")!;
  const PAGE = /* GraphQL */ `
    query ($id: ID!, $after: Int, $afterCursor: String, $first: Int) {
      actionLog(actionExecutionId: $id, after: $after, afterCursor: $afterCursor, first: $first) {
        nodes {
          sequence
          text
        }
        hasNextPage
        endCursor
        cursor
      }
    }
  `;
  const seen: string[] = [];
  let afterCursor: string | undefined;
  for (;;) {
    const page = dataOf(await t.gql(PAGE, { id: job.jobId, afterCursor, first: 2 })).actionLog;
    seen.push(...page.nodes.map((n: { sequence: number; text: string }) => `${n.sequence}:${n.text}`));
    expect(typeof page.cursor).toBe("string");
    afterCursor = page.cursor;
    if (!page.hasNextPage) break;
  }
  expect(seen).toEqual([
    "1:$ make",
    "2:compiling a",
    "3:warning: x",
    "4:compiling b",
    "5:linking",
    "6:no newline at the end",
  ]);
  // A follow from a cursor of an attempt that has ended: the rest of the log, then complete.
  const fromCursor = dataOf(await t.gql(PAGE, { id: job.jobId, first: 3 })).actionLog;
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const followed: string[] = [];
  await new Promise<void>((resolve, reject) => {
    client.subscribe(
      {
        query: `subscription ($id: ID!, $c: String) { actionLog(actionExecutionId: $id, afterCursor: $c) { sequence text } }`,
        variables: { id: job.jobId, c: fromCursor.cursor },
      },
      {
        next: (value: any) => followed.push(`${value.data.actionLog.sequence}:${value.data.actionLog.text}`),
        error: reject,
        complete: resolve,
      },
    );
  });
  await client.dispose();
  expect(followed).toEqual(seen.slice(3));

  // The line number and the cursor together must name the same line.
  const second = dataOf(await t.gql(PAGE, { id: job.jobId, first: 2 })).actionLog;
  const agreeing = dataOf(
    await t.gql(PAGE, { id: job.jobId, after: 2, afterCursor: second.cursor }),
  ).actionLog;
  expect(agreeing.nodes[0]).toEqual({ sequence: 3, text: "warning: x" });
  const disagreeing = await t.gql(PAGE, { id: job.jobId, after: 3, afterCursor: second.cursor });
  expect(disagreeing.errors?.[0]?.extensions).toMatchObject({
    code: "BAD_USER_INPUT",
    validationErrors: [{ path: "afterCursor" }],
  });
  const other = worker.jobs.find((j) => j.jobId !== job.jobId)!;
  const foreign = await t.gql(PAGE, { id: other.jobId, afterCursor: second.cursor });
  expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
  const garbage = await t.gql(PAGE, { id: job.jobId, afterCursor: "%%%" });
  expect(garbage.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
});

it("refuses an unknown action execution and a page size out of range", async () => {
  const unknown = await t.gql(LOG, { id: crypto.randomUUID() });
  expect(unknown.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  const job = worker.jobs[0]!;
  const tooMany = await t.gql(LOG, { id: job.jobId, first: 100_000 });
  expect(tooMany.errors?.[0]?.extensions).toMatchObject({
    code: "BAD_USER_INPUT",
    validationErrors: [{ path: "first" }],
  });
});
