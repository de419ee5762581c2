import { CREATE_AGENT_TOKEN_MUTATION } from "../src/commands/create-agent-token";
import { LIST_AGENT_TOKENS_QUERY } from "../src/commands/list-agent-tokens";
import { LIST_AGENTS_QUERY } from "../src/commands/list-agents";
import { REVOKE_AGENT_TOKEN_MUTATION } from "../src/commands/revoke-agent-token";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const token = {
  id: "0b7c2f9e-7a51-4c55-9d0c-3f1d7e0a9b11",
  description: "build hosts",
  createdAt: "2025-01-01T00:00:00.000Z",
  createdBy: "admin",
  revokedAt: null,
  revokedBy: null,
};

describe("create-agent-token", () => {
  it("prints the id and the token, and warns on stderr that it is shown once", async () => {
    server.respondData({ createAgentTokenV2: { id: token.id, token: "slat_secret" } });
    const result = await sluice("create-agent-token", "--description", "build hosts");
    expect(result).toEqual({
      code: 0,
      stdout: `{\n  "id": "${token.id}",\n  "token": "slat_secret"\n}\n`,
      stderr: "Store this token now: it is not shown again.\n",
    });
    expect(server.requests[0]!.body).toEqual({
      query: CREATE_AGENT_TOKEN_MUTATION,
      variables: { description: "build hosts" },
    });
  });

  it("prints the server's validation errors with their paths", async () => {
    const message = "description must be 1 to 200 characters; it has 201.";
    server.respond({
      body: {
        errors: [
          {
            message,
            extensions: { code: "BAD_USER_INPUT", validationErrors: [{ path: "description", message }] },
          },
        ],
        data: null,
      },
    });
    expect(await sluice("create-agent-token", "--description", "x".repeat(201))).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: ${message} (BAD_USER_INPUT)\n  description: ${message}\n`,
    });
  });

  it.each([
    [[], "error: required option '--description <text>' not specified"],
    [["--description", "  "], "error: --description must not be empty"],
  ])("exits 2 for %j without a request", async (args, message) => {
    const result = await sluice("create-agent-token", ...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(server.requests).toHaveLength(0);
  });
});

describe("list-agent-tokens", () => {
  it("prints the tokens as a JSON array", async () => {
    const revoked = {
      ...token,
      id: "5d1e8a40-2b7f-4e6a-8c9d-1a2b3c4d5e6f",
      revokedAt: "2025-01-02T00:00:00.000Z",
      revokedBy: "admin",
    };
    server.respondData({
      agentTokensV2: { nodes: [token, revoked], pageInfo: { hasNextPage: false, endCursor: null } },
    });
    expect(await sluice("list-agent-tokens")).toEqual({
      code: 0,
      stderr: "",
      stdout: json([token, revoked]),
    });
    expect(server.requests[0]!.body).toEqual({
      query: LIST_AGENT_TOKENS_QUERY,
      variables: { first: 100, after: null },
    });
  });

  it("prints an empty array", async () => {
    server.respondData({ agentTokensV2: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } });
    expect(await sluice("list-agent-tokens")).toEqual({ code: 0, stderr: "", stdout: "[]\n" });
  });
});

describe("revoke-agent-token", () => {
  it("sends the id and prints the revoked token", async () => {
    const revoked = { ...token, revokedAt: "2025-01-02T00:00:00.000Z", revokedBy: "admin" };
    server.respondData({ revokeAgentTokenV2: { agentToken: revoked } });
    expect(await sluice("revoke-agent-token", "--id", token.id)).toEqual({
      code: 0,
      stderr: "",
      stdout: json(revoked),
    });
    expect(server.requests[0]!.body).toEqual({
      query: REVOKE_AGENT_TOKEN_MUTATION,
      variables: { id: token.id },
    });
  });

  it("prints a NOT_FOUND error", async () => {
    server.respond({
      body: {
        errors: [{ message: "No agent token nope exists.", extensions: { code: "NOT_FOUND" } }],
        data: null,
      },
    });
    expect(await sluice("revoke-agent-token", "--id", "nope")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: No agent token nope exists. (NOT_FOUND)\n",
    });
  });

  it("requires --id", async () => {
    const result = await sluice("revoke-agent-token");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: required option '--id <id>' not specified");
    expect(server.requests).toHaveLength(0);
  });
});

describe("list-agents", () => {
  const agent = {
    id: "ag-1",
    name: "builder-1",
    pool: "default",
    labels: { os: "linux" },
    providers: [{ category: "Build", owner: "Sluice", provider: "Shell", version: "1" }],
    version: "0.1.0",
    status: "busy",
    capacity: 2,
    runningJobs: 1,
    lastHeartbeat: "2025-01-01T00:00:10.000Z",
    revoked: false,
  };

  it("prints the agents as a JSON array, with no filter by default", async () => {
    server.respondData({ agentsV2: { nodes: [agent], pageInfo: { hasNextPage: false, endCursor: null } } });
    expect(await sluice("list-agents")).toEqual({ code: 0, stderr: "", stdout: json([agent]) });
    expect(server.requests[0]!.body).toEqual({
      query: LIST_AGENTS_QUERY,
      variables: { pool: null, status: null, first: 100, after: null },
    });
  });

  it("filters by pool and status", async () => {
    server.respondData({ agentsV2: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } });
    const result = await sluice("list-agents", "--pool", "gpu", "--status", "draining");
    expect(result).toEqual({ code: 0, stderr: "", stdout: "[]\n" });
    expect(server.requests[0]!.body.variables).toEqual({
      pool: "gpu",
      status: "draining",
      first: 100,
      after: null,
    });
  });

  it("rejects an unknown --status", async () => {
    const result = await sluice("list-agents", "--status", "idle");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: option '--status <status>' argument 'idle' is invalid");
    expect(result.stderr).toContain("online, busy, draining, offline");
    expect(server.requests).toHaveLength(0);
  });
});
