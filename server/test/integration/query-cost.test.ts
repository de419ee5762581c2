/**
 * One operation cannot make the server read without bound: an operation whose estimated cost
 * (graphql/complexity.ts) is above SLUICE_MAX_QUERY_COST is refused before it runs, over HTTP
 * and over graphql-ws, with LIMIT_EXCEEDED and the figures.
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const NESTED = `{ pipelines(first: 100) { nodes { name executions(first: 100) { nodes { id stages { name actions { name attempts { status } } } } } } } }`;
const ALIASED = `{ ${Array.from({ length: 30 }, (_, i) => `l${i}: actionLog(actionExecutionId: "x", first: 1000) { nodes { text } }`).join(" ")} }`;

async function post(query: string): Promise<{ status: number; body: any }> {
  const response = await fetch(t.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

it("refuses pages of pages, and the same field under many aliases, before running them", async () => {
  for (const [query, cost] of [
    // executions: 1 + 100 × (nodes + stages + actions + attempts); pipelines: 1 + 100 × (nodes + executions)
    [NESTED, 1 + 100 * (1 + (1 + 100 * 4))],
    [ALIASED, 30 * (1 + 1000)],
  ] as const) {
    const { status, body } = await post(query);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions).toMatchObject({ code: "LIMIT_EXCEEDED", cost, limit: 20000 });
    expect(body.errors[0].message).toMatch(
      /^This operation would cost [\d,]+; the limit is 20,000 \(SLUICE_MAX_QUERY_COST\)\./,
    );
  }
});

it("serves what the dashboard asks: a page of 5,000 log lines, a page of 100 pipelines with their stages", async () => {
  const logs = await post(
    `{ actionLog(actionExecutionId: "00000000-0000-0000-0000-000000000000", first: 5000) { nodes { sequence text } complete } }`,
  );
  // Costed and run: the field itself answers (there is no such action execution).
  expect(logs.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  dataOf(
    await t.gql(
      `{ pipelines(first: 100) { nodes { name stages { name actions { name configuration } } } } }`,
    ),
  );
});

it("refuses the same over graphql-ws", async () => {
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
    retryAttempts: 0,
  });
  try {
    const errors = await new Promise<any[]>((resolve, reject) => {
      client.subscribe(
        { query: NESTED },
        {
          next: () => reject(new Error("it ran")),
          error: (e) => resolve(e as any[]),
          complete: () => reject(new Error("it completed")),
        },
      );
    });
    expect(errors[0].extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: 20000 });
  } finally {
    await client.dispose();
  }
});

it("takes its ceiling from SLUICE_MAX_QUERY_COST", async () => {
  const small = await startTestServer({ env: { SLUICE_MAX_QUERY_COST: "50" } });
  try {
    dataOf(await small.gql(`{ pipelines(first: 20) { nodes { name stages { name } } } }`));
    const over = await small.gql(`{ pipelines(first: 30) { nodes { name stages { name } } } }`);
    expect(over.errors?.[0]?.extensions).toMatchObject({
      code: "LIMIT_EXCEEDED",
      cost: 1 + 30 * 2,
      limit: 50,
    });
  } finally {
    await small.stop();
  }
});
