import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { PUBLIC_OPERATIONS } from "../../src/domain/policy/operations";
import { createSchema } from "../../src/graphql/schema";
import { dummyVariables, operationFor } from "../support/operations";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

describe("every operation needs a valid token", () => {
  it.each(["none", "wrong"])(
    "with %s token, every root query and mutation answers UNAUTHENTICATED (but the public signIn)",
    async (kind) => {
      const schema = await createSchema();
      const roots = [
        ["query", schema.getQueryType()],
        ["mutation", schema.getMutationType()],
      ] as const;
      let checked = 0;
      for (const [op, root] of roots) {
        for (const field of Object.values(root!.getFields())) {
          // signIn is open to anyone; it answers UNAUTHENTICATED for wrong credentials itself.
          if (PUBLIC_OPERATIONS.includes(`${root!.name}.${field.name}`)) continue;
          const response = await t.gql(operationFor(op, field), dummyVariables(field), {
            token: kind === "none" ? null : "wrong-token-wrong-token",
          });
          expect({ field: field.name, code: response.errors?.[0]?.extensions?.code }).toEqual({
            field: field.name,
            code: "UNAUTHENTICATED",
          });
          expect(response.errors?.[0]?.message).toMatch(/token/i);
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(10);
    },
  );

  it("lets the admin token do everything", async () => {
    const data = dataOf(await t.gql(`{ actionTypes { id { provider } } }`));
    expect(data.actionTypes.length).toBeGreaterThan(0);
  });
});

describe("graphql-ws on the same port and path", () => {
  const wsUrl = () => t.url.replace(/^http/, "ws");

  it("refuses a connection without a valid token (close 4403)", async () => {
    for (const connectionParams of [{}, { authorization: "Bearer nope-nope-nope-nope" }]) {
      const client = createClient({
        url: wsUrl(),
        webSocketImpl: WebSocket,
        connectionParams,
        retryAttempts: 0,
        lazy: false,
      });
      const closed = await new Promise<number>((resolve) => {
        client.on("closed", (event) => resolve((event as { code: number }).code));
      });
      expect(closed).toBe(4403);
      await client.dispose();
    }
  });

  it("serves operations to a client with the admin token", async () => {
    const client = createClient({
      url: wsUrl(),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
      retryAttempts: 0,
    });
    const result = await new Promise<any>((resolve, reject) => {
      let value: unknown;
      client.subscribe(
        { query: `{ actionTypes(category: "Approval") { id { provider } } }` },
        { next: (v) => (value = v), error: reject, complete: () => resolve(value) },
      );
    });
    expect(result.data.actionTypes).toEqual([{ id: { provider: "Manual" } }]);
    await client.dispose();
  });
});
