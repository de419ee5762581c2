/**
 * Many clients on one subscription: the hub executes it once per event and every client still
 * gets every event, in order; clients with other arguments get only theirs.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { CREATE, manualApproval, simplePipeline } from "../support/documents";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually, untilSubscribed } from "../support/wait";

let t: TestServer;
const clients: Client[] = [];
/** simplePipeline with a third stage, whose transition the tests toggle to see that clients listen. */
function withProbe(name: string) {
  const pipeline = simplePipeline(name);
  return { ...pipeline, stages: [...pipeline.stages, { name: "Probe", actions: [manualApproval()] }] };
}

beforeAll(async () => {
  t = await startTestServer();
  dataOf(await t.gql(CREATE, { input: withProbe("watched") }));
  dataOf(await t.gql(CREATE, { input: withProbe("other") }));
});

const toggle = (pipeline: string, enabled: boolean, stage = "Build") =>
  t.gql(
    `mutation ($p: String!, $s: String!, $e: Boolean!) { toggleTransition(pipelineName: $p, stageName: $s, enabled: $e, reason: "hold") { enabled } }`,
    { p: pipeline, s: stage, e: enabled },
  );

/** A change of the Probe stage: reported to the pipeline's subscribers, ignored by the assertions. */
const probe = (pipeline: string) => async () => {
  dataOf(await toggle(pipeline, false, "Probe"));
  dataOf(await toggle(pipeline, true, "Probe"));
};
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await t.stop();
});

/** Keeps the transition events of the Build stage in `into`, and counts the Probe stage's in `probes`. */
function subscribe(pipelineName: string, into: string[], probes = { seen: 0 }): void {
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  clients.push(client);
  client.subscribe(
    {
      query: `subscription ($p: String) { pipelineEvents(pipelineName: $p) { type pipelineName stageName by } }`,
      variables: { p: pipelineName },
    },
    {
      next: (value: any) => {
        const e = value.data.pipelineEvents;
        if (!e.type.startsWith("TRANSITION_")) return;
        if (e.stageName === "Probe") probes.seen++;
        else into.push(`${e.pipelineName} ${e.type}`);
      },
      error: () => {},
      complete: () => {},
    },
  );
}

it("delivers every event, in order, to each of 150 clients holding the same subscription", async () => {
  const watched = Array.from({ length: 150 }, () => [] as string[]);
  const watchedProbes = watched.map((into) => {
    const probes = { seen: 0 };
    subscribe("watched", into, probes);
    return probes;
  });
  const other: string[] = [];
  const otherProbes = { seen: 0 };
  subscribe("other", other, otherProbes);
  await untilSubscribed(
    probe("watched"),
    () => watchedProbes.every((p) => p.seen > 0),
    30_000,
    "150 clients",
  );
  await untilSubscribed(probe("other"), () => otherProbes.seen > 0, 10_000, "the other client");
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
  const query = `subscription { pipelineEvents(pipelineName: "other") { type stageName } }`;
  const kept: string[] = [];
  const left: string[] = [];
  const keptProbes = { seen: 0 };
  const leftProbes = { seen: 0 };
  const record =
    (into: string[], probes: { seen: number }) =>
    (v: { data?: { pipelineEvents: { type: string; stageName: string } } | null }) => {
      const e = v.data!.pipelineEvents;
      if (e.stageName === "Probe") probes.seen++;
      else into.push(e.type);
    };
  // Two subscriptions with one document on one connection: one group in the hub, two ids.
  client.subscribe<{ pipelineEvents: { type: string; stageName: string } }>(
    { query },
    { next: record(kept, keptProbes), error: () => {}, complete: () => {} },
  );
  const unsubscribe = client.subscribe<{ pipelineEvents: { type: string; stageName: string } }>(
    { query },
    { next: record(left, leftProbes), error: () => {}, complete: () => {} },
  );
  await untilSubscribed(probe("other"), () => keptProbes.seen > 0 && leftProbes.seen > 0, 10_000, "both");
  dataOf(await toggle("other", true));
  await eventually(async () => kept.length === 1 && left.length === 1, 5000, "both subscriptions");
  unsubscribe();
  dataOf(await toggle("other", false));
  dataOf(await toggle("other", true));
  await eventually(async () => kept.length === 3, 5000, "the subscription kept");
  // A last change the kept subscription sees after the others: had the one left got anything
  // more, it would have come by then (both are written in one loop, in order).
  const probesBefore = keptProbes.seen;
  await probe("other")();
  await eventually(async () => keptProbes.seen >= probesBefore + 2, 5000, "the last probe");
  expect(kept).toEqual(["TRANSITION_ENABLED", "TRANSITION_DISABLED", "TRANSITION_ENABLED"]);
  expect(left).toEqual(["TRANSITION_ENABLED"]);
});
