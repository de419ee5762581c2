/**
 * Many clients on one subscription: the hub executes it once per event and every client still
 * gets every event, in order; clients with other arguments get only theirs.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { CREATE, simplePipeline } from "../support/documents";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

let t: TestServer;
const clients: Client[] = [];
beforeAll(async () => {
  t = await startTestServer();
  dataOf(await t.gql(CREATE, { input: simplePipeline("watched") }));
  dataOf(await t.gql(CREATE, { input: simplePipeline("other") }));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await t.stop();
});

function subscribe(pipelineName: string, into: string[]): void {
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  clients.push(client);
  client.subscribe(
    {
      query: `subscription ($p: String) { pipelineEvents(pipelineName: $p) { type pipelineName by } }`,
      variables: { p: pipelineName },
    },
    {
      next: (value: any) => {
        const e = value.data.pipelineEvents;
        if (e.type.startsWith("TRANSITION_")) into.push(`${e.pipelineName} ${e.type}`);
      },
      error: () => {},
      complete: () => {},
    },
  );
}

it("delivers every event, in order, to each of 150 clients holding the same subscription", async () => {
  const watched = Array.from({ length: 150 }, () => [] as string[]);
  watched.forEach((into) => subscribe("watched", into));
  const other: string[] = [];
  subscribe("other", other);
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const toggle = (pipeline: string, enabled: boolean) =>
    t.gql(
      `mutation ($p: String!, $e: Boolean!) { toggleTransition(pipelineName: $p, stageName: "Build", enabled: $e, reason: "hold") { enabled } }`,
      { p: pipeline, e: enabled },
    );
  for (let i = 0; i < 3; i++) {
    dataOf(await toggle("watched", false));
    dataOf(await toggle("watched", true));
  }
  dataOf(await toggle("other", false));
  const expected = Array.from({ length: 3 }, () => [
    "watched TRANSITION_DISABLED",
    "watched TRANSITION_ENABLED",
  ]).flat();
  await eventually(
    async () => watched.every((seen) => seen.length >= expected.length),
    10_000,
    "every client",
  );
  for (const seen of watched) expect(seen).toEqual(expected);
  await eventually(async () => other.length === 1, 5000, "the other pipeline's client");
  expect(other).toEqual(["other TRANSITION_DISABLED"]);
});

// That nothing more is written for the completed one is the hub's unit test (the graphql-ws
// client drops messages for ids it no longer has, so this test could not see it).
it("goes on serving a shared subscription after its client completed another one of the group", async () => {
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  clients.push(client);
  const query = `subscription { pipelineEvents(pipelineName: "other") { type } }`;
  const kept: string[] = [];
  const left: string[] = [];
  // Two subscriptions with one document on one connection: one group in the hub, two ids.
  client.subscribe<{ pipelineEvents: { type: string } }>(
    { query },
    { next: (v) => void kept.push(v.data!.pipelineEvents.type), error: () => {}, complete: () => {} },
  );
  const unsubscribe = client.subscribe<{ pipelineEvents: { type: string } }>(
    { query },
    {
      next: (v) => void left.push(v.data!.pipelineEvents.type),
      error: () => {},
      complete: () => {},
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const toggle = (enabled: boolean) =>
    t.gql(
      `mutation ($e: Boolean!) { toggleTransition(pipelineName: "other", stageName: "Build", enabled: $e, reason: "hold") { enabled } }`,
      { e: enabled },
    );
  dataOf(await toggle(true));
  await eventually(async () => kept.length === 1 && left.length === 1, 5000, "both subscriptions");
  unsubscribe();
  dataOf(await toggle(false));
  dataOf(await toggle(true));
  await eventually(async () => kept.length === 3, 5000, "the subscription kept");
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(kept).toEqual(["TRANSITION_ENABLED", "TRANSITION_DISABLED", "TRANSITION_ENABLED"]);
  expect(left).toEqual(["TRANSITION_ENABLED"]);
});
