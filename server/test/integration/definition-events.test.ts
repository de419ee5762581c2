/**
 * pipelineEvents carries definition changes too: a pipeline created, given a new version, and
 * deleted, each once, live over graphql-ws.
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { decode, natsNames } from "@sluice/protocol";
import { CREATE, simplePipeline } from "../support/documents";
import { connectNats } from "../support/nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually, untilSubscribed } from "../support/wait";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

it("announces created, updated and deleted pipelines to pipelineEvents subscribers", async () => {
  // A pipeline whose transition the test toggles until the subscription reports it.
  dataOf(await t.gql(CREATE, { input: simplePipeline("probe") }));
  let probes = 0;
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const seen: string[] = [];
  const unsubscribe = client.subscribe(
    {
      query: `subscription { pipelineEvents { type pipelineName pipelineVersion by executionId sequence } }`,
    },
    {
      next: (value: any) => {
        const e = value.data.pipelineEvents;
        if (e.pipelineName === "probe" && e.type.startsWith("TRANSITION_")) probes++;
        if (e.type.startsWith("PIPELINE_") && e.pipelineName === "announced") {
          expect(e).toMatchObject({ executionId: null, sequence: null });
          seen.push(`${e.type} ${e.pipelineName} v${e.pipelineVersion ?? "-"} by ${e.by}`);
        }
      },
      error: () => {},
      complete: () => {},
    },
  );
  const toggle = (enabled: boolean) =>
    t.gql(
      `mutation ($e: Boolean!) { toggleTransition(pipelineName: "probe", stageName: "Build", enabled: $e, reason: "probe") { enabled } }`,
      { e: enabled },
    );
  await untilSubscribed(
    async () => {
      dataOf(await toggle(false));
      dataOf(await toggle(true));
    },
    () => probes > 0,
  );
  dataOf(await t.gql(CREATE, { input: simplePipeline("announced") }));
  dataOf(
    await t.gql(
      `mutation ($input: PipelineInput!) { updatePipeline(input: $input, expectedVersion: 1) { version } }`,
      { input: simplePipeline("announced", { executionMode: "QUEUED" }) },
    ),
  );
  dataOf(await t.gql(`mutation { deletePipeline(name: "announced") }`));
  await eventually(async () => seen.length === 3, 5000, "three definition events");
  expect(seen).toEqual([
    "PIPELINE_CREATED announced v1 by user/admin",
    "PIPELINE_UPDATED announced v2 by user/admin",
    "PIPELINE_DELETED announced v2 by user/admin",
  ]);
  unsubscribe();
  await client.dispose();
});

it("publishes on NATS only events that PROTOCOL.md's PipelineEvent describes", async () => {
  const nc = await connectNats();
  const problems: string[] = [];
  let count = 0;
  const sub = nc.subscribe(natsNames(t.natsPrefix).wildcards.events, {
    callback: (_error, msg) => {
      count++;
      const decoded = decode("pipelineEvent", msg.data, msg.subject);
      if (!decoded.ok) problems.push(decoded.error.message);
    },
  });
  try {
    dataOf(await t.gql(CREATE, { input: simplePipeline("checked") }));
    dataOf(
      await t.gql(
        `mutation { toggleTransition(pipelineName: "checked", stageName: "Build", enabled: false, reason: "x") { enabled } }`,
      ),
    );
    // The execution CreatePipeline started waits for an agent: its events so far are enough.
    await eventually(async () => count >= 4, 5000, "events on NATS");
    expect(problems).toEqual([]);
  } finally {
    sub.unsubscribe();
    await nc.close();
  }
});
