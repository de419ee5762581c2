import {
  ASSUME_ROLE_MUTATION,
  CREATE_ACCOUNT_MUTATION,
  CREATE_ROLE_MUTATION,
  GET_ACCOUNT_RETENTION_QUERY,
  PUT_ACCOUNT_RETENTION_MUTATION,
} from "../src/commands/accounts";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const credentials = {
  secret: "slc_abcDEF123-_",
  tokenId: "0b7c2f9e-7a51-4c55-9d0c-3f1d7e0a9b11",
  expiresAt: "2027-01-01T01:00:00.000Z",
  assumedRole: {
    srn: "srn:sluice:default:role/deployer",
    account: "default",
    name: "deployer",
    sessionName: "me",
    expiresAt: "2027-01-01T01:00:00.000Z",
  },
};

it("create-account sends the id and description", async () => {
  const account = { id: "team-b", description: null, createdAt: "x", createdBy: "user/admin" };
  server.respondData({ createAccountV2: { account: account } });
  expect(await sluice("create-account", "--account-id", "team-b")).toEqual({
    code: 0,
    stdout: json({ account }),
    stderr: "",
  });
  expect(server.requests[0]!.body).toEqual({
    query: CREATE_ACCOUNT_MUTATION,
    variables: { id: "team-b", description: null },
  });
});

it("create-role reads the trust policy document and the maximum session duration", async () => {
  const trust = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sluice:AssumeRole", Principal: { Sluice: "srn:sluice:b:root" } }],
  };
  server.respondData({ createRoleV2: { role: { name: "deployer" } } });
  const result = await run(
    [
      "create-role",
      "--role-name",
      "deployer",
      "--assume-role-policy-document",
      "-",
      "--max-session-duration",
      "7200",
      "--endpoint",
      server.endpoint,
    ],
    { stdin: JSON.stringify(trust) },
  );
  expect(result).toEqual({ code: 0, stdout: json({ role: { name: "deployer" } }), stderr: "" });
  expect(server.requests[0]!.body).toEqual({
    query: CREATE_ROLE_MUTATION,
    variables: { name: "deployer", trustPolicy: trust, description: null, maxSessionSeconds: 7200 },
  });
});

it("create-role refuses a duration that is not a whole number, without asking the server", async () => {
  const result = await sluice(
    "create-role",
    "--role-name",
    "r",
    "--assume-role-policy-document",
    "{}",
    "--max-session-duration",
    "1h",
  );
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/--max-session-duration 1h: a whole number of seconds/);
  expect(server.requests).toHaveLength(0);
});

it("assume-role prints the credentials, or with --export a line setting SLUICE_TOKEN", async () => {
  server.respondData(
    { assumeRoleV2: { credentials: credentials } },
    { assumeRoleV2: { credentials: credentials } },
  );
  expect(
    await sluice(
      "assume-role",
      "--role-srn",
      "srn:sluice:default:role/deployer",
      "--role-session-name",
      "me",
    ),
  ).toEqual({ code: 0, stdout: json({ credentials }), stderr: "" });
  expect(server.requests[0]!.body).toEqual({
    query: ASSUME_ROLE_MUTATION,
    variables: { role: "srn:sluice:default:role/deployer", sessionName: "me", durationSeconds: null },
  });
  const exported = await sluice(
    "assume-role",
    "--role-srn",
    "role/deployer",
    "--role-session-name",
    "me",
    "--duration-seconds",
    "600",
    "--export",
  );
  expect(exported.code).toBe(0);
  expect(exported.stdout).toBe("export SLUICE_TOKEN=slc_abcDEF123-_\n");
  expect(exported.stderr).toMatch(/expire at 2027-01-01T01:00:00.000Z/);
  expect(server.requests[1]!.body.variables).toEqual({
    role: "role/deployer",
    sessionName: "me",
    durationSeconds: 600,
  });
});

it("put-account-retention sends the figures given and null for those left out (inherit)", async () => {
  const retention = {
    account: "default",
    executionDays: 30,
    maxExecutions: null,
    effectiveExecutionDays: 30,
    effectiveMaxExecutions: 0,
    updatedAt: "x",
    updatedBy: "user/admin",
  };
  server.respondData({ putAccountRetention: { accountRetention: retention } });
  expect(await sluice("put-account-retention", "--account", "default", "--execution-days", "30")).toEqual({
    code: 0,
    stdout: json({ retention }),
    stderr: "",
  });
  expect(server.requests[0]!.body).toEqual({
    query: PUT_ACCOUNT_RETENTION_MUTATION,
    variables: { account: "default", executionDays: 30, maxExecutions: null },
  });
  server.respondData({ accountRetention: retention });
  expect(await sluice("get-account-retention", "--account", "default")).toEqual({
    code: 0,
    stdout: json({ retention }),
    stderr: "",
  });
  expect(server.requests[1]!.body).toEqual({
    query: GET_ACCOUNT_RETENTION_QUERY,
    variables: { account: "default" },
  });
});

it("put-account-retention refuses a figure that is not a whole number, sending nothing", async () => {
  const result = await sluice("put-account-retention", "--account", "default", "--max-executions", "1.5");
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/--max-executions 1.5: a whole number/);
  expect(server.requests).toHaveLength(0);
});
