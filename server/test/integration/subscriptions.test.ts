/**
 * Subscriptions as clients use them: `executionEvents` replays what a client missed and follows
 * live without a gap or a repeat, completes when the execution is final, and answers NOT_FOUND
 * for an unknown execution; the graphql-ws credential in any case; GraphQL over Server-Sent
 * Events (fetch and curl); urql's GET queries.
 */
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import { promisify } from "node:util";
import { cacheExchange, createClient as createUrql, fetchExchange, gql } from "@urql/core";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { CREATE, manualApproval, sourceThen } from "../support/documents";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, TestWorker } from "../support/worker";

let t: TestServer;
let worker: TestWorker;
const clients: Client[] = [];
beforeAll(async () => {
  t = await startTestServer();
  worker = await TestWorker.start(t.natsPrefix, [GIT], () => ({
    outcome: "Succeeded",
    outputVariables: { CommitId: "abc123" },
  }));
});
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await worker.stop();
  await t.stop();
});

interface Event {
  type: string;
  sequence: number;
  status: string | null;
}

const EVENTS = `subscription ($id: ID!, $after: Int) {
  executionEvents(executionId: $id, afterSequence: $after) { type sequence status } }`;
const EXECUTION = `query ($id: ID!) { pipelineExecution(id: $id) {
  status stages { actions { id approvalPending } } events { type sequence status } } }`;

function wsClient(connectionParams: Record<string, unknown> = { authorization: `Bearer ${ADMIN_TOKEN}` }) {
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams,
  });
  clients.push(client);
  return client;
}

/** A subscription's events, and how it ended: completed, or with these errors. */
function follow(client: Client, variables: Record<string, unknown>, query = EVENTS) {
  const events: Event[] = [];
  const ended = new Promise<{ completed: true } | { errors: unknown }>((resolve) => {
    client.subscribe<{ executionEvents: Event }>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) resolve({ errors: value.errors });
          else events.push(value.data!.executionEvents);
        },
        error: (errors) => resolve({ errors }),
        complete: () => resolve({ completed: true }),
      },
    );
  });
  return { events, ended };
}

/** A new pipeline's first execution, once it waits at its approval. */
async function executionAtApproval(): Promise<{ id: string; approval: string }> {
  const name = `p-${crypto.randomBytes(3).toString("hex")}`;
  dataOf(await t.gql(CREATE, { input: sourceThen(name, { name: "Prod", actions: [manualApproval("Ok")] }) }));
  const { pipeline } = dataOf(
    await t.gql(`query ($n: String!) { pipeline(name: $n) { executions { nodes { id } } } }`, { n: name }),
  );
  const id = pipeline.executions.nodes[0].id as string;
  const approval = await eventually(
    async () => {
      const e = dataOf(await t.gql(EXECUTION, { id })).pipelineExecution;
      return e.stages[1].actions[0].approvalPending ? (e.stages[1].actions[0].id as string) : undefined;
    },
    20_000,
    "the approval to be pending",
  );
  return { id, approval };
}

async function storedEvents(id: string): Promise<Event[]> {
  return dataOf(await t.gql(EXECUTION, { id })).pipelineExecution.events;
}

async function approve(actionExecutionId: string) {
  dataOf(
    await t.gql(
      `mutation ($id: ID!) { putApprovalResult(actionExecutionId: $id, approved: true) { status } }`,
      {
        id: actionExecutionId,
      },
    ),
  );
}

const sequences = (events: Event[]) => events.map((e) => e.sequence);

describe("executionEvents", () => {
  it("replays the events after afterSequence, follows live with no gap or repeat, and completes when final", async () => {
    const { id, approval } = await executionAtApproval();
    const before = await storedEvents(id);
    expect(before.length).toBeGreaterThan(3);
    const followed = follow(wsClient(), { id, after: 2 });
    // The replay is the acknowledgement: once it is in, every later change reaches the client.
    await eventually(async () => followed.events.length === before.length - 2, 10_000, "the replay");
    expect(followed.events).toEqual(before.slice(2));
    await approve(approval);
    expect(await followed.ended).toEqual({ completed: true });
    const all = await storedEvents(id);
    expect(followed.events).toEqual(all.slice(2));
    expect(sequences(followed.events)).toEqual(all.slice(2).map((_, i) => i + 3));
    expect(followed.events.at(-1)).toMatchObject({ type: "EXECUTION_SUCCEEDED", status: "Succeeded" });

    // Subscribing to a final execution: its history, then completion at once; live only: completion.
    const late = follow(wsClient(), { id, after: 0 });
    expect(await late.ended).toEqual({ completed: true });
    expect(late.events).toEqual(all);
    const live = follow(wsClient(), { id });
    expect(await live.ended).toEqual({ completed: true });
    expect(live.events).toEqual([]);
  }, 60_000);

  it("gives each replaying client its own replay, and completes the shared live stream for all", async () => {
    const { id, approval } = await executionAtApproval();
    const before = await storedEvents(id);
    // One connection, one document and the same variables: the hub would share them if it could.
    const client = wsClient();
    const first = follow(client, { id, after: 0 });
    await eventually(async () => first.events.length === before.length, 10_000, "the first replay");
    const second = follow(client, { id, after: 0 });
    await eventually(async () => second.events.length === before.length, 10_000, "the second replay");
    const liveA = follow(client, { id });
    const liveB = follow(client, { id });
    await approve(approval);
    for (const followed of [first, second, liveA, liveB]) {
      expect(await followed.ended).toEqual({ completed: true });
    }
    const all = await storedEvents(id);
    expect(first.events).toEqual(all);
    expect(second.events).toEqual(all);
    // The live ones joined at some point of the run: whatever they got is a tail of the history.
    for (const live of [liveA, liveB])
      expect(all.slice(all.length - live.events.length)).toEqual(live.events);
  }, 60_000);

  it("carries what changed: the attempt's fields, the stage's and the execution's times and summary", async () => {
    const { id, approval } = await executionAtApproval();
    const CHANGES = `subscription ($id: ID!, $after: Int) {
      executionEvents(executionId: $id, afterSequence: $after) {
        type sequence status stageName actionName actionExecutionId statusSummary startTime endTime outputArtifacts { name size sha256 }
        attempt approvalPending summary errorDetails { code message } agentName outputVariables approval { approved by summary } } }`;
    const followed = follow(wsClient(), { id, after: 0 }, CHANGES);
    await eventually(
      async () => followed.events.some((e) => e.type === "APPROVAL_NEEDED"),
      10_000,
      "the replay",
    );
    await approve(approval);
    expect(await followed.ended).toEqual({ completed: true });
    const events = followed.events as unknown as Array<Record<string, any>>;
    const of = (type: string, stageName?: string) =>
      events.find((e) => e.type === type && (stageName === undefined || e.stageName === stageName))!;
    const checkout = of("ACTION_SUCCEEDED");
    expect(checkout).toMatchObject({
      stageName: "Source",
      status: "Succeeded",
      attempt: 1,
      approvalPending: false,
      errorDetails: null,
      agentName: expect.any(String),
      outputVariables: { CommitId: "abc123" },
      outputArtifacts: expect.any(Array),
    });
    expect(of("ACTION_STARTED").outputArtifacts).toBeNull();
    expect(Date.parse(checkout.endTime)).toBeGreaterThanOrEqual(Date.parse(checkout.startTime));
    expect(of("ACTION_STARTED")).toMatchObject({
      status: "InProgress",
      endTime: null,
      outputVariables: null,
    });
    expect(of("APPROVAL_NEEDED")).toMatchObject({ stageName: "Prod", approvalPending: true, attempt: 1 });
    expect(of("APPROVAL_APPROVED")).toMatchObject({
      approvalPending: false,
      status: "Succeeded",
      approval: { approved: true, by: expect.any(String), summary: expect.any(String) },
    });
    const stage = of("STAGE_SUCCEEDED", "Source");
    expect(stage.startTime).toEqual(expect.any(String));
    expect(Date.parse(stage.endTime)).toBeGreaterThanOrEqual(Date.parse(stage.startTime));
    expect(of("STAGE_STARTED", "Prod")).toMatchObject({ endTime: null, startTime: expect.any(String) });
    const started = of("EXECUTION_STARTED");
    const done = of("EXECUTION_SUCCEEDED");
    expect(started).toMatchObject({ status: "InProgress", endTime: null, attempt: null });
    expect(done).toMatchObject({ status: "Succeeded", startTime: started.startTime });
    expect(done.endTime).toEqual(expect.any(String));
    // What the stored execution says afterwards is what the events said.
    const view = dataOf(
      await t.gql(
        `query ($id: ID!) { pipelineExecution(id: $id) { statusSummary endTime stages { endTime actions { endTime summary } } } }`,
        { id },
      ),
    ).pipelineExecution;
    expect(done.statusSummary).toEqual(view.statusSummary);
    expect(done.endTime).toEqual(view.endTime);
    expect(stage.endTime).toEqual(view.stages[0].endTime);
    expect(checkout.endTime).toEqual(view.stages[0].actions[0].endTime);
    expect(checkout.summary).toEqual(view.stages[0].actions[0].summary);
  }, 60_000);

  it("answers NOT_FOUND for an unknown execution and BAD_USER_INPUT for a negative afterSequence", async () => {
    const client = wsClient();
    for (const id of [crypto.randomUUID(), "not-an-id"]) {
      for (const after of [0, null]) {
        const { ended } = follow(client, { id, after });
        expect(await ended).toEqual({
          errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: "NOT_FOUND" }) })],
        });
      }
    }
    // The checker resolves the execution first (an unknown one is NOT_FOUND whatever the other
    // arguments): the argument check is seen on an execution that exists.
    const { id: existing, approval } = await executionAtApproval();
    const { ended } = follow(client, { id: existing, after: -1 });
    expect(await ended).toEqual({
      errors: [
        expect.objectContaining({
          extensions: expect.objectContaining({
            code: "BAD_USER_INPUT",
            validationErrors: [expect.objectContaining({ path: "afterSequence" })],
          }),
        }),
      ],
    });
    await approve(approval);
  }, 60_000);
});

describe("graphql-ws authentication", () => {
  it("reads Authorization from connection_init in any case, and Bearer in any case", async () => {
    const { id, approval } = await executionAtApproval();
    await approve(approval);
    const all = await eventually(async () => {
      const events = await storedEvents(id);
      return events.at(-1)?.type === "EXECUTION_SUCCEEDED" ? events : undefined;
    });
    for (const params of [
      { Authorization: `Bearer ${ADMIN_TOKEN}` },
      { AUTHORIZATION: `bearer ${ADMIN_TOKEN}` },
      { authorization: `BEARER ${ADMIN_TOKEN}` },
    ]) {
      const followed = follow(wsClient(params), { id, after: 0 });
      expect(await followed.ended).toEqual({ completed: true });
      expect(followed.events).toEqual(all);
    }
    const refused = wsClient({ Authorization: "Bearer wrong-token" });
    const closed = new Promise<number>((resolve) => {
      refused.on("closed", (event) => resolve((event as { code: number }).code));
    });
    follow(refused, { id, after: 0 });
    expect(await closed).toBe(4403);
  }, 60_000);
});

/** Reads a graphql-sse event stream to its end: its `next` payloads, then whether it completed. */
async function readEventStream(response: Response): Promise<{ next: any[]; completed: boolean }> {
  const text = await response.text();
  const next: any[] = [];
  let completed = false;
  for (const block of text.split("\n\n")) {
    const event = /^event: (\w+)/m.exec(block)?.[1];
    const data = /^data: ?(.*)$/m.exec(block)?.[1];
    if (event === "next" && data) next.push(JSON.parse(data));
    if (event === "complete") completed = true;
  }
  return { next, completed };
}

function sse(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(t.url, {
    method: "POST",
    headers: {
      accept: "text/event-stream",
      "content-type": "application/json",
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

describe("GraphQL over Server-Sent Events", () => {
  it("follows executionEvents with fetch: the replay, then live events, then the end of the stream", async () => {
    const { id, approval } = await executionAtApproval();
    const before = await storedEvents(id);
    const response = await sse({ query: EVENTS, variables: { id, after: 0 } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    // Read as it comes: the replay first, then the approval's consequences, then `complete`.
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const nextCount = () => (text.match(/^event: next$/gm) ?? []).length;
    while (nextCount() < before.length) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended early: ${text}`);
      text += value;
    }
    await approve(approval);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const { next, completed } = await readEventStream(new Response(text));
    expect(completed).toBe(true);
    expect(next.map((r) => r.data.executionEvents)).toEqual(await storedEvents(id));
  }, 60_000);

  it("runs queries, and holds SSE to the token, the request limits and the GET rules", async () => {
    const { id } = await executionAtApproval();
    const query = await readEventStream(
      await sse({ query: `query ($id: ID!) { pipelineExecution(id: $id) { status } }`, variables: { id } }),
    );
    expect(query).toEqual({
      next: [{ data: { pipelineExecution: { status: "InProgress" } } }],
      completed: true,
    });

    const anonymous = await sse({ query: EVENTS, variables: { id, after: 0 } }, { authorization: "" });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");

    const deep = await readEventStream(
      await sse({ query: `{ ${"pipelines { ".repeat(300)}${"}".repeat(300)} }` }),
    );
    expect(deep.next[0].errors[0].extensions.code).toMatch(/LIMIT_EXCEEDED|DEPTH/);

    const unknown = await readEventStream(
      await sse({ query: EVENTS, variables: { id: crypto.randomUUID() } }),
    );
    expect(unknown.next[0].errors[0].extensions.code).toBe("NOT_FOUND");

    // A mutation over SSE (POST) runs like over HTTP, and is in the audit log.
    const stopped = await readEventStream(
      await sse({
        query: `mutation ($id: ID!) { stopExecution(executionId: $id, abandon: true, reason: "over SSE") { id } }`,
        variables: { id },
      }),
    );
    expect(stopped).toEqual({ next: [{ data: { stopExecution: { id } } }], completed: true });
    const { auditEvents } = dataOf(
      await t.gql(`{ auditEvents(operation: "stopExecution") { nodes { operation outcome arguments } } }`),
    );
    expect(auditEvents.nodes).toContainEqual(
      expect.objectContaining({ outcome: "ok", arguments: expect.objectContaining({ reason: "over SSE" }) }),
    );

    const mutation = encodeURIComponent(`mutation { deletePipeline(name: "nope") }`);
    const overGet = await fetch(`${t.url}?query=${mutation}`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(overGet.status).toBe(405);
  }, 60_000);

  it("can be followed with curl", async () => {
    const { id, approval } = await executionAtApproval();
    await approve(approval);
    const all = await eventually(async () => {
      const events = await storedEvents(id);
      return events.at(-1)?.type === "EXECUTION_SUCCEEDED" ? events : undefined;
    });
    // The README's command, with this test's server, token and execution.
    const { stdout } = await promisify(execFile)("curl", [
      "-sN",
      t.url,
      "-H",
      `Authorization: Bearer ${ADMIN_TOKEN}`,
      "-H",
      "Accept: text/event-stream",
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify({
        query:
          "subscription($id:ID!){executionEvents(executionId:$id,afterSequence:0){type sequence status}}",
        variables: { id },
      }),
    ]);
    const { next, completed } = await readEventStream(new Response(stdout));
    expect(completed).toBe(true);
    expect(next.map((r) => r.data.executionEvents)).toEqual(all);
  }, 60_000);
});

describe("queries over GET", () => {
  it("answers urql's GET queries that carry a bearer token, and keeps refusing the others", async () => {
    const methods: string[] = [];
    const urql = createUrql({
      url: t.url,
      exchanges: [cacheExchange, fetchExchange],
      fetchOptions: { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
      fetch: (input, init) => {
        methods.push(init?.method ?? "GET");
        return fetch(input, init);
      },
    });
    const result = await urql
      .query(
        gql`
          {
            pipelines {
              nodes {
                name
              }
            }
          }
        `,
        {},
      )
      .toPromise();
    expect(result.error).toBeUndefined();
    expect(Array.isArray(result.data.pipelines.nodes)).toBe(true);
    expect(methods).toEqual(["GET"]);

    // Without the header, CSRF prevention refuses the same GET.
    const plain = await fetch(`${t.url}?query=${encodeURIComponent("{ pipelines { nodes { name } } }")}`);
    expect(plain.status).toBe(400);
    expect(await plain.text()).toMatch(/CSRF/i);
    // A mutation over GET stays refused, token or not (urql itself always POSTs them).
    const mutation = await fetch(
      `${t.url}?query=${encodeURIComponent(`mutation { deletePipeline(name: "x") }`)}`,
      {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      },
    );
    expect(mutation.status).toBe(405);
  });
});
