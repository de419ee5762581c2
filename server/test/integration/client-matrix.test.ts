/**
 * Every documented client through a query, a mutation and a subscription against a real server:
 * urql with its defaults (queries over GET, subscriptions over graphql-ws), Apollo Client (HTTP
 * link and GraphQLWsLink), graphql-ws alone, graphql-sse, and curl (JSON POSTs, and Server-Sent
 * Events for the subscription). Each client lists the pipelines, disables or enables a transition
 * and hears the pipelineEvents it causes; the subscription is known to listen when its own
 * mutation's event arrives (no fixed wait).
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql as apolloGql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { cacheExchange, createClient as createUrql, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient as createSse } from "graphql-sse";
import { createClient as createWs, type Client as WsClient } from "graphql-ws";
import WebSocket from "ws";
import { CREATE, manualApproval, sourceThen } from "../support/documents";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { untilSubscribed } from "../support/wait";

jest.setTimeout(60_000);

let t: TestServer;
const PIPELINE = "matrix";
const disposers: Array<() => unknown> = [];

beforeAll(async () => {
  t = await startTestServer();
  dataOf(
    await t.gql(CREATE, { input: sourceThen(PIPELINE, { name: "Prod", actions: [manualApproval("Ok")] }) }),
  );
});
afterAll(async () => {
  await Promise.allSettled(disposers.map(async (d) => d()));
  await t?.stop();
});

const LIST = `query Matrix { pipelines { nodes { name } } }`;
// The documented mutation style (docs/graphql.md): one input, a payload echoing clientMutationId.
const DISABLE = `mutation Disable($reason: String!, $id: String) {
  disableStageTransition(input: { pipelineName: "${PIPELINE}", stageName: "Prod", reason: $reason, clientMutationId: $id }) {
    clientMutationId transition { enabled } } }`;
const ENABLE = `mutation Enable($id: String) {
  enableStageTransition(input: { pipelineName: "${PIPELINE}", stageName: "Prod", clientMutationId: $id }) {
    clientMutationId transition { enabled } } }`;
const EVENTS = `subscription Events { pipelineEvents(pipelineName: "${PIPELINE}") { type stageName } }`;

type Data = Record<string, any>;
interface MatrixClient {
  query(query: string): Promise<Data>;
  mutate(query: string, variables: Data): Promise<Data>;
  /** Starts the subscription; `onData` gets each payload's data. Returns its stop. */
  subscribe(query: string, onData: (data: Data) => void): () => void;
}

const wsUrl = () => t.url.replace(/^http/, "ws");
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

function wsClient(): WsClient {
  const client = createWs({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams: auth });
  disposers.push(() => client.dispose());
  return client;
}

function throwErrors(result: { errors?: readonly unknown[] | null; data?: unknown }): Data {
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return result.data as Data;
}

const clients: Record<string, () => MatrixClient> = {
  "urql with its defaults": () => {
    const ws = wsClient();
    const methods: string[] = [];
    const client = createUrql({
      url: t.url,
      exchanges: [
        cacheExchange,
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({
              unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink),
            }),
          }),
        }),
      ],
      fetchOptions: { headers: auth },
      fetch: (input, init) => {
        methods.push(init?.method ?? "GET");
        return fetch(input, init);
      },
    });
    return {
      async query(query) {
        const data = throwErrors(await client.query(query, {}).toPromise());
        expect(methods.at(-1)).toBe("GET"); // urql's default for queries
        return data;
      },
      async mutate(query, variables) {
        return throwErrors(await client.mutation(query, variables).toPromise());
      },
      subscribe(query, onData) {
        const { unsubscribe } = client.subscription(query, {}).subscribe((r) => onData(throwErrors(r)));
        return unsubscribe;
      },
    };
  },

  "Apollo Client": () => {
    const ws = wsClient();
    const link = ApolloLink.split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === "OperationDefinition" && definition.operation === "subscription";
      },
      new GraphQLWsLink(ws),
      new HttpLink({ uri: t.url, headers: auth, fetch }),
    );
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    disposers.push(() => client.stop());
    return {
      async query(query) {
        return throwErrors(await client.query({ query: apolloGql(query), fetchPolicy: "no-cache" }));
      },
      async mutate(query, variables) {
        return throwErrors(await client.mutate({ mutation: apolloGql(query), variables }));
      },
      subscribe(query, onData) {
        const subscription = client
          .subscribe({ query: apolloGql(query) })
          .subscribe({ next: (r) => onData(throwErrors(r)) });
        return () => subscription.unsubscribe();
      },
    };
  },

  "graphql-ws": () => {
    const ws = wsClient();
    const once = (query: string, variables?: Data) =>
      new Promise<Data>((resolve, reject) => {
        let data: Data | undefined;
        ws.subscribe(
          { query, variables },
          { next: (r) => (data = throwErrors(r)), error: reject, complete: () => resolve(data!) },
        );
      });
    return {
      query: (query) => once(query),
      mutate: (query, variables) => once(query, variables),
      subscribe: (query, onData) =>
        ws.subscribe({ query }, { next: (r) => onData(throwErrors(r)), error: () => {}, complete: () => {} }),
    };
  },

  "graphql-sse": () => {
    const sse = createSse({ url: t.url, headers: auth });
    disposers.push(() => sse.dispose());
    const once = async (query: string, variables?: Data) => {
      let data: Data | undefined;
      for await (const r of sse.iterate({ query, variables })) data = throwErrors(r);
      return data!;
    };
    return {
      query: (query) => once(query),
      mutate: (query, variables) => once(query, variables),
      subscribe: (query, onData) =>
        sse.subscribe(
          { query },
          { next: (r) => onData(throwErrors(r)), error: () => {}, complete: () => {} },
        ),
    };
  },

  curl: () => {
    const post = async (query: string, variables?: Data) => {
      const { stdout } = await promisify(execFile)("curl", [
        "-sS",
        t.url,
        "-H",
        `Authorization: Bearer ${ADMIN_TOKEN}`,
        "-H",
        "Content-Type: application/json",
        "-d",
        JSON.stringify({ query, variables }),
      ]);
      return throwErrors(JSON.parse(stdout));
    };
    return {
      query: (query) => post(query),
      mutate: (query, variables) => post(query, variables),
      subscribe(query, onData) {
        const child = spawn("curl", [
          "-sN",
          t.url,
          "-H",
          `Authorization: Bearer ${ADMIN_TOKEN}`,
          "-H",
          "Accept: text/event-stream",
          "-H",
          "Content-Type: application/json",
          "-d",
          JSON.stringify({ query }),
        ]);
        let buffer = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const lines = block.split("\n");
            if (!lines.includes("event: next")) continue;
            const payload = lines.find((l) => l.startsWith("data: "));
            if (payload) onData(throwErrors(JSON.parse(payload.slice("data: ".length))));
          }
        });
        const stop = () => child.kill("SIGTERM");
        disposers.push(stop);
        return stop;
      },
    };
  },
};

describe.each(Object.keys(clients))("%s", (name) => {
  it("runs a query, a mutation and a subscription", async () => {
    const client = clients[name]!();

    const listed = await client.query(LIST);
    expect(listed.pipelines.nodes.map((p: { name: string }) => p.name)).toContain(PIPELINE);

    const events: Array<{ type: string; stageName: string | null }> = [];
    const stop = client.subscribe(EVENTS, (data) => events.push(data.pipelineEvents));
    let enabled = true;
    // Its own mutations until one of their events arrives: then it listens.
    await untilSubscribed(
      async () => {
        enabled = !enabled;
        const payload = enabled
          ? (await client.mutate(ENABLE, { id: name })).enableStageTransition
          : (await client.mutate(DISABLE, { reason: `by ${name}`, id: name })).disableStageTransition;
        expect(payload).toMatchObject({ clientMutationId: name, transition: { enabled } });
      },
      () => events.some((e) => e.type.startsWith("TRANSITION_")),
      20_000,
      `${name}'s subscription`,
    );
    expect(events.find((e) => e.type.startsWith("TRANSITION_"))).toMatchObject({ stageName: "Prod" });
    stop();
    // Leave the transition enabled for the next client.
    if (!enabled) await client.mutate(ENABLE, { id: null });
  });
});
