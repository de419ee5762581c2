import {
  ATTACH_POLICY_MUTATION,
  CREATE_API_TOKEN_MUTATION,
  CREATE_SERVICE_ACCOUNT_MUTATION,
  CREATE_USER_MUTATION,
  LIST_API_TOKENS_QUERY,
  PUT_POLICY_MUTATION,
  REVOKE_API_TOKEN_MUTATION,
  SIMULATE_POLICY_QUERY,
  WHOAMI_QUERY,
} from "../src/commands/identity";
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
  principal: "service-account/ci",
  description: "deploys",
  createdAt: "2026-01-01T00:00:00.000Z",
  createdBy: "user/admin",
  expiresAt: "2027-01-01T00:00:00.000Z",
  lastUsedAt: null,
  revokedAt: null,
  revokedBy: null,
};

it("create-user sends the name, display name and email", async () => {
  const user = {
    name: "alice",
    displayName: "Alice",
    email: "a@example.com",
    createdAt: "x",
    createdBy: "user/admin",
  };
  server.respondData({ createUserV2: { user: user } });
  const result = await sluice(
    "create-user",
    "--user-name",
    "alice",
    "--display-name",
    "Alice",
    "--email",
    "a@example.com",
  );
  expect(result).toEqual({ code: 0, stdout: json({ user }), stderr: "" });
  expect(server.requests[0]!.body).toEqual({
    query: CREATE_USER_MUTATION,
    variables: { name: "alice", displayName: "Alice", email: "a@example.com" },
  });
});

it("create-service-account sends its name and description", async () => {
  const account = { name: "ci", description: "builds", createdAt: "x", createdBy: "user/admin" };
  server.respondData({ createServiceAccountV2: { serviceAccount: account } });
  expect(await sluice("create-service-account", "--name", "ci", "--description", "builds")).toEqual({
    code: 0,
    stdout: json({ serviceAccount: account }),
    stderr: "",
  });
  expect(server.requests[0]!.body).toEqual({
    query: CREATE_SERVICE_ACCOUNT_MUTATION,
    variables: { name: "ci", description: "builds" },
  });
});

describe("create-api-token", () => {
  it("prints the token and its secret once, with a notice on stderr", async () => {
    server.respondData({ createApiTokenV2: { secret: "slc_secret", token } });
    const result = await sluice(
      "create-api-token",
      "--principal",
      "service-account/ci",
      "--description",
      "deploys",
      "--expires-at",
      "2027-01-01T00:00:00Z",
    );
    expect(result).toEqual({
      code: 0,
      stdout: json({ apiToken: token, secret: "slc_secret" }),
      stderr: "Store this token now: it is not shown again.\n",
    });
    expect(server.requests[0]!.body).toEqual({
      query: CREATE_API_TOKEN_MUTATION,
      variables: {
        principal: "service-account/ci",
        description: "deploys",
        expiresAt: "2027-01-01T00:00:00.000Z",
      },
    });
  });

  it("refuses an --expires-at that is no date before asking the server", async () => {
    const result = await sluice(
      "create-api-token",
      "--principal",
      "user/a",
      "--description",
      "d",
      "--expires-at",
      "soon",
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--expires-at soon: not a date and time");
    expect(server.requests).toHaveLength(0);
  });

  it("prints the server's refusal with its code", async () => {
    const message = "You are not allowed sluice:ManageIdentity on srn:sluice:default:user/bob.";
    server.respond({ body: { errors: [{ message, extensions: { code: "FORBIDDEN" } }], data: null } });
    expect(await sluice("create-api-token", "--principal", "user/bob", "--description", "d")).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: ${message} (FORBIDDEN)\n`,
    });
  });
});

it("list-api-tokens and revoke-api-token", async () => {
  server.respondData(
    { apiTokensV2: { nodes: [token], pageInfo: { hasNextPage: false, endCursor: null } } },
    { revokeApiTokenV2: { apiToken: { ...token, revokedAt: "x", revokedBy: "user/admin" } } },
  );
  expect(await sluice("list-api-tokens", "--principal", "service-account/ci")).toEqual({
    code: 0,
    stdout: json({ apiTokens: [token] }),
    stderr: "",
  });
  const revoked = await sluice("revoke-api-token", "--id", token.id);
  expect(revoked.code).toBe(0);
  expect(JSON.parse(revoked.stdout).apiToken).toMatchObject({ revokedBy: "user/admin" });
  expect(server.requests.map((r) => r.body)).toEqual([
    { query: LIST_API_TOKENS_QUERY, variables: { principal: "service-account/ci", first: 100, after: null } },
    { query: REVOKE_API_TOKEN_MUTATION, variables: { id: token.id } },
  ]);
});

it("put-policy reads the document, attach-policy attaches it", async () => {
  const document = {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["sluice:PutApprovalResult"],
        Resource: ["srn:sluice:default:pipeline/web/stage/Prod/*"],
      },
    ],
  };
  const policy = {
    name: "approvers",
    description: null,
    managed: false,
    document,
    updatedAt: "x",
    updatedBy: "user/admin",
  };
  server.respondData({ putPolicyV2: { policy: policy } }, { attachPolicyV2: { changed: true } });
  expect(
    await sluice("put-policy", "--policy-name", "approvers", "--policy-document", JSON.stringify(document)),
  ).toEqual({
    code: 0,
    stdout: json({ policy }),
    stderr: "",
  });
  expect(await sluice("attach-policy", "--policy-name", "approvers", "--principal", "group/release")).toEqual(
    {
      code: 0,
      stdout: json({ attached: true }),
      stderr: "",
    },
  );
  expect(server.requests.map((r) => r.body)).toEqual([
    { query: PUT_POLICY_MUTATION, variables: { name: "approvers", document, description: null } },
    { query: ATTACH_POLICY_MUTATION, variables: { policyName: "approvers", principal: "group/release" } },
  ]);
});

it("put-policy refuses a document that is not an object", async () => {
  const result = await sluice("put-policy", "--policy-name", "p", "--policy-document", "[1]");
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("--policy-document must be a JSON object");
  expect(server.requests).toHaveLength(0);
});

it("simulate-policy and whoami", async () => {
  const simulation = {
    decision: "ALLOW",
    allowed: true,
    action: "sluice:PutApprovalResult",
    resource: "srn:sluice:default:pipeline/web/stage/Prod/action/Approve",
    statement: { policy: "approvers", attachedTo: "group/release", sid: null, index: 0 },
    explanation: 'Allowed by statement 0 of policy "approvers" attached to group/release.',
  };
  const identity = {
    principal: "user/alice",
    kind: "user",
    name: "alice",
    groups: ["release"],
    policies: [],
  };
  server.respondData({ simulatePolicy: simulation }, { whoAmI: identity });
  expect(
    await sluice(
      "simulate-policy",
      "--principal",
      "user/alice",
      "--action",
      simulation.action,
      "--resource",
      simulation.resource,
    ),
  ).toEqual({ code: 0, stdout: json({ simulation }), stderr: "" });
  expect(await sluice("whoami")).toEqual({ code: 0, stdout: json({ identity }), stderr: "" });
  expect(server.requests.map((r) => r.body)).toEqual([
    {
      query: SIMULATE_POLICY_QUERY,
      variables: { principal: "user/alice", action: simulation.action, resource: simulation.resource },
    },
    { query: WHOAMI_QUERY, variables: {} },
  ]);
});
