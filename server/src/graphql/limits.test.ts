import fc from "fast-check";
import { getIntrospectionQuery, GraphQLError, parse, type GraphQLSchema } from "graphql";
import type { RequestLimits } from "../config";
import { isStorable, storableText, unstorablePaths } from "../domain/storable-text";
import { operationCost } from "./complexity";
import { requestLimitErrors } from "./limits";
import { createSchema } from "./schema";
import { socketOperation } from "./socket-operation";

const LIMITS: RequestLimits = {
  maxCost: 20_000,
  maxTokens: 20_000,
  maxDepth: 32,
  maxAliases: 100,
  maxRootFields: 20,
  maxMutations: 10,
  maxBodyBytes: 2 * 1024 * 1024,
};

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await createSchema();
});

const errorsOf = (query: string, variables: Record<string, unknown> = {}, limits = LIMITS) =>
  requestLimitErrors(schema, parse(query), undefined, variables, limits).map((e) => ({
    code: e.extensions.code,
    message: e.message,
  }));

const aliased = (n: number, field: string) =>
  Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ");

describe("request limits", () => {
  it("lets the dashboard's kind of query and GraphiQL's introspection through", () => {
    expect(errorsOf(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }))).toEqual([]);
    expect(errorsOf(`{ pipelines(first: 100) { nodes { name stages { name actions { name } } } } }`)).toEqual(
      [],
    );
  });

  it("costs a page read backward, a connection's default page and nodes(ids) by the items they may return", () => {
    const cost = (query: string, variables: Record<string, unknown> = {}) =>
      operationCost(schema, parse(query), undefined, variables);
    const page = (args: string) => cost(`{ pipelines${args} { nodes { stages { name } } } }`);
    expect(page("(last: 30)")).toBe(page("(first: 30)"));
    expect(page("(last: 30)")).toBeGreaterThan(page("(last: 3)"));
    // Without first or last: the largest default page (50), never one item.
    expect(page("")).toBe(page("(first: 50)"));
    const nodes = (n: number) =>
      cost(`query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Pipeline { stages { name } } } }`, {
        ids: Array.from({ length: n }, (_, i) => `id${i}`),
      });
    expect(nodes(40)).toBeGreaterThan(nodes(4));
  });

  it("refuses more mutations than SLUICE_MAX_MUTATIONS in one request", () => {
    const mutation = (n: number) => `mutation { ${aliased(n, `createAgentToken(description: "x") { id }`)} }`;
    expect(errorsOf(mutation(10))).toEqual([]);
    expect(errorsOf(mutation(11))).toEqual([
      {
        code: "LIMIT_EXCEEDED",
        message: expect.stringMatching(/has 11 mutations; the limit is 10 \(SLUICE_MAX_MUTATIONS\)/),
      },
    ]);
  });

  it("refuses too many top-level fields and too many aliases", () => {
    expect(errorsOf(`{ ${aliased(21, "__typename")} }`)[0]?.message).toMatch(
      /21 top-level fields; the limit is 20/,
    );
    const wide = `{ pipelines(first: 1) { nodes { ${aliased(101, "name")} } } }`;
    expect(errorsOf(wide)[0]?.message).toMatch(/101 aliased fields; the limit is 100 \(SLUICE_MAX_ALIASES\)/);
  });

  it("refuses introspection nested deeper than SLUICE_MAX_QUERY_DEPTH", () => {
    const deep = (n: number) =>
      `{ __schema { types { ${"fields { type { ".repeat(n)}name${" } }".repeat(n)} } } }`;
    expect(errorsOf(deep(14))).toEqual([]);
    expect(errorsOf(deep(16))[0]?.message).toMatch(/35 levels of nesting; the limit is 32/);
  });

  it("refuses, instead of letting through, an operation the estimator cannot cost", () => {
    // 10,001 nodes through fragments: the estimator gives up (graphql-query-complexity's own cap).
    const fragments = Array.from(
      { length: 4 },
      (_, i) =>
        `fragment F${i} on __Type { ${Array.from({ length: 10 }, (_, j) => `f${j}: ${i < 3 ? `ofType { ...F${i + 1} }` : "name"}`).join(" ")} }`,
    );
    const errors = errorsOf(
      `{ __type(name: "Query") { ...F0 } } ${fragments.join(" ")}`,
      {},
      {
        ...LIMITS,
        maxAliases: 1_000_000,
        maxDepth: 100,
      },
    );
    expect(errors).toEqual([
      {
        code: "LIMIT_EXCEEDED",
        message: expect.stringMatching(/more than 10,000 fields|cannot be estimated/),
      },
    ]);
  });

  it("refuses NUL and lone surrogates in literals and variables, keys included, naming where", () => {
    expect(errorsOf(`mutation { createAgentToken(description: "a\\u0000b") { id } }`)).toEqual([
      { code: "BAD_USER_INPUT", message: expect.stringContaining("description") },
    ]);
    const errors = errorsOf(`mutation($d: String!) { createAgentToken(description: $d) { id } }`, {
      d: "x\uD800",
    });
    expect(errors[0]?.code).toBe("BAD_USER_INPUT");
    expect(errors[0]?.message).toContain("variables.d");
    expect(unstorablePaths({ a: [{ ["k\u0000"]: "ok" }] }, "variables")).toEqual(["variables.a[0] (a key)"]);
  });

  it("tells storable text from text PostgreSQL refuses, for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => isStorable(text) === !text.includes("\u0000")),
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        // UTF-8 cannot carry a lone surrogate: it does not survive the round trip.
        const wellFormed = Buffer.from(text, "utf8").toString("utf8") === text && !text.includes("\u0000");
        return isStorable(text) === wellFormed && isStorable(storableText(text));
      }),
    );
  });
});

describe("graphql-ws operations", () => {
  it("answers a syntax error or too many tokens with errors, not by throwing", () => {
    const bad = socketOperation(schema, LIMITS, { query: "{ pipelines(" });
    expect(Array.isArray(bad) && bad[0] instanceof GraphQLError && bad[0].extensions.code).toBe(
      "GRAPHQL_PARSE_FAILED",
    );
    const long = socketOperation(
      schema,
      { ...LIMITS, maxTokens: 50 },
      { query: `{ ${aliased(30, "__typename")} }` },
    );
    expect(Array.isArray(long) && long[0]!.message).toMatch(/tokens/);
  });

  it("validates and limits like HTTP, and returns what graphql-ws runs otherwise", () => {
    const invalid = socketOperation(schema, LIMITS, { query: "{ nope }" });
    expect(Array.isArray(invalid) && invalid[0]!.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const many = socketOperation(schema, LIMITS, { query: `{ ${aliased(21, "__typename")} }` });
    expect(Array.isArray(many) && many[0]!.extensions.code).toBe("LIMIT_EXCEEDED");
    // Refused before validation, some of whose rules would overflow the stack.
    const deep = socketOperation(schema, LIMITS, {
      query: `{ __schema { types { ${"fields { type { ".repeat(2000)}name${" } }".repeat(2000)} } } }`,
    });
    expect(Array.isArray(deep) && deep[0]!.message).toMatch(/nests 4,003 brackets deep; the limit is 64/);
    const ok = socketOperation(schema, LIMITS, { query: "{ __typename }", variables: {} });
    expect(Array.isArray(ok)).toBe(false);
  });
});
