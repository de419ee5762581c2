import {
  ConnectionError,
  createClient,
  describeFetchFailure,
  GraphQLRequestError,
  ResponseError,
} from "../src/client";
import { startFakeServer, unreachableEndpoint, type FakeGraphQLServer } from "./helpers/graphql-server";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

describe("createClient", () => {
  it("sends query and variables and resolves with data", async () => {
    server.respondData({ hello: "world" });
    const request = createClient({ endpoint: server.endpoint, token: "t" });
    await expect(request("query($x:Int){ hello(x:$x) }", { x: 1 })).resolves.toEqual({ hello: "world" });
    expect(server.requests[0]!.body).toEqual({ query: "query($x:Int){ hello(x:$x) }", variables: { x: 1 } });
    expect(server.requests[0]!.headers["authorization"]).toBe("Bearer t");
  });

  it("throws GraphQLRequestError with the errors array, even with partial data", async () => {
    const errors = [
      { message: "boom", path: ["a"], extensions: { code: "UNAVAILABLE" } },
      { message: "second", extensions: { code: "FORBIDDEN" } },
    ];
    server.respond({ body: { errors, data: { a: null } } });
    const err = await createClient({ endpoint: server.endpoint })("{ a }").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphQLRequestError);
    expect((err as GraphQLRequestError).errors).toEqual(errors);
    expect((err as GraphQLRequestError).code).toBe("UNAVAILABLE");
    expect((err as GraphQLRequestError).status).toBe(200);
  });

  it("throws ResponseError for a response without data", async () => {
    server.respond({ body: { data: null } });
    await expect(createClient({ endpoint: server.endpoint })("{ a }")).rejects.toThrow(
      new ResponseError(server.endpoint, 200, "the response has no data"),
    );
  });

  it("throws ConnectionError naming the endpoint", async () => {
    const endpoint = await unreachableEndpoint();
    const err = await createClient({ endpoint })("{ a }").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).endpoint).toBe(endpoint);
    expect((err as ConnectionError).reason).toContain("ECONNREFUSED");
  });
});

describe("describeFetchFailure", () => {
  it("uses the first error of an AggregateError cause, or its code", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED ::1:4000"), { code: "ECONNREFUSED" });
    const aggregate = Object.assign(new AggregateError([refused], ""), { code: "ECONNREFUSED" });
    expect(describeFetchFailure(new TypeError("fetch failed", { cause: aggregate }))).toBe(
      "connect ECONNREFUSED ::1:4000",
    );
    const bare = Object.assign(new Error(""), { code: "ENOTFOUND" });
    expect(describeFetchFailure(new TypeError("fetch failed", { cause: bare }))).toBe("ENOTFOUND");
    expect(describeFetchFailure(new TypeError("bad port"))).toBe("bad port");
  });
});
