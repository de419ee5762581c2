/**
 * A live view's cost per event: the subscriptions the dashboard holds are answered from the event
 * itself. Events fanned out to many subscribers make no SQL statement at all (the engine's own,
 * made once per change before the event is published, are not part of the fan-out: here the
 * events are published straight to NATS, as the outbox relay does, with no engine step behind them).
 */
import crypto from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "@sluice/protocol";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { CREATE, sourceThen, manualApproval } from "../support/documents";
import { connectNats } from "../support/nats";
import { countGraphQLStatements } from "../support/sql-statements";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually, untilSubscribed } from "../support/wait";

/** Statements made on behalf of GraphQL operations while counting (support/sql-statements.ts). */
const counter = countGraphQLStatements();

/** What the dashboard's pages select (web/src/features), the fields that say what changed included. */
const CHANGE = `type sequence executionId pipelineName stageName actionName actionExecutionId status at
  statusSummary startTime endTime attempt approvalPending summary errorDetails { code message }
  agentName outputVariables`;
const SUBSCRIPTIONS = [
  (name: string) => ({
    query: `subscription ($n: String!) { pipelineEvents(pipelineName: $n) { ${CHANGE} } }`,
    variables: { n: name },
  }),
  () => ({ query: `subscription { pipelineEvents { ${CHANGE} } }`, variables: {} }),
  (_name: string, id: string) => ({
    query: `subscription ($id: ID!) { executionEvents(executionId: $id) { ${CHANGE} } }`,
    variables: { id },
  }),
];
const DASHBOARDS = 20;

let t: TestServer;
let nc: NatsConnection;
const clients: Client[] = [];
beforeAll(async () => {
  t = await startTestServer();
  nc = await connectNats();
});
afterAll(async () => {
  counter.uninstall();
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await nc.close();
  await t.stop();
});

it("fans events out to 20 dashboards × 3 subscriptions without one SQL statement", async () => {
  const name = `p-${crypto.randomBytes(3).toString("hex")}`;
  dataOf(await t.gql(CREATE, { input: sourceThen(name, { name: "Prod", actions: [manualApproval()] }) }));
  // No agent takes its checkout: the execution waits, and makes no event of its own meanwhile.
  const execution = await eventually(async () => {
    const { pipeline } = dataOf(
      await t.gql(`query ($n: String!) { pipeline(name: $n) { executions { nodes { id sequence } } } }`, {
        n: name,
      }),
    );
    return pipeline.executions.nodes[0] as { id: string; sequence: number } | undefined;
  });
  let sequence = execution.sequence + 100;
  const subject = natsNames(t.natsPrefix).subjects.event(name);
  const publish = () => {
    sequence += 1;
    nc.publish(
      subject,
      JSON.stringify({
        pipelineName: name,
        type: "ACTION_SUCCEEDED",
        executionId: execution.id,
        sequence,
        stageName: "Source",
        actionName: "Checkout",
        actionExecutionId: crypto.randomUUID(),
        status: "Succeeded",
        at: new Date().toISOString(),
        startTime: new Date().toISOString(),
        endTime: new Date().toISOString(),
        attempt: 1,
        approvalPending: false,
        summary: "done",
        errorDetails: null,
        agentName: "agent-1",
        outputVariables: { CommitId: "abc123" },
      }),
    );
  };

  const received = Array.from({ length: DASHBOARDS * SUBSCRIPTIONS.length }, () => [] as number[]);
  for (let d = 0; d < DASHBOARDS; d++) {
    const client = createClient({
      url: t.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    clients.push(client);
    SUBSCRIPTIONS.forEach((make, s) => {
      const into = received[d * SUBSCRIPTIONS.length + s]!;
      client.subscribe<Record<string, { sequence: number; outputVariables: unknown }>>(
        make(name, execution.id),
        {
          next: (value) => {
            const event = Object.values(value.data ?? {})[0];
            if (event?.outputVariables) into.push(event.sequence);
          },
          error: (error) => {
            throw new Error(`subscription failed: ${JSON.stringify(error)}`);
          },
          complete: () => {},
        },
      );
    });
  }
  await untilSubscribed(
    async () => publish(),
    () => received.every((r) => r.length > 0),
    30_000,
    "every subscription",
  );

  const EVENTS = 10;
  const from = sequence + 1;
  counter.start();
  for (let i = 0; i < EVENTS; i++) publish();
  await eventually(
    async () => received.every((r) => r.at(-1) === from + EVENTS - 1),
    20_000,
    "every event everywhere",
  );
  const statements = counter.stop();
  for (const r of received)
    expect(r.filter((s) => s >= from)).toEqual(Array.from({ length: EVENTS }, (_, i) => from + i));
  expect(statements).toEqual([]);

  // The counter sees the server's statements: a page query makes some.
  counter.start();
  dataOf(await t.gql(`query ($id: ID!) { pipelineExecution(id: $id) { status } }`, { id: execution.id }));
  expect(counter.stop().length).toBeGreaterThan(0);
}, 90_000);
