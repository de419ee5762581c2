import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DELETE_SECRET_MUTATION, LIST_SECRETS_QUERY, PUT_SECRET_MUTATION } from "../src/commands/secrets";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (args: string[], stdin?: string) =>
  run([...args, "--endpoint", server.endpoint], stdin === undefined ? {} : { stdin });

const secret = {
  name: "db-password",
  description: "the production database",
  version: 2,
  createdBy: "user/admin",
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedBy: "user/admin",
  updatedAt: "2026-01-02T00:00:00.000Z",
};

describe("put-secret", () => {
  it("sends the value from stdin less its final line break, and prints the metadata only", async () => {
    server.respondData({ putSecretV2: { secret: secret } });
    const result = await sluice(
      ["put-secret", "db-password", "--value-stdin", "--description", "the db"],
      "hunter2\n",
    );
    expect(result).toEqual({ code: 0, stderr: "", stdout: `${JSON.stringify(secret, null, 2)}\n` });
    expect(server.requests[0]!.body).toEqual({
      query: PUT_SECRET_MUTATION,
      variables: { name: "db-password", value: "hunter2", description: "the db" },
    });
  });

  it("reads --value-file, and keeps the description when none is given", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cli-secret-"));
    try {
      const file = path.join(dir, "value");
      fs.writeFileSync(file, "line one\nline two\n");
      server.respondData({ putSecretV2: { secret: secret } });
      expect((await sluice(["put-secret", "db-password", "--value-file", file])).code).toBe(0);
      expect(server.requests[0]!.body).toEqual({
        query: PUT_SECRET_MUTATION,
        variables: { name: "db-password", value: "line one\nline two", description: null },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [["put-secret", "db-password"], "exactly one of --value-stdin and --value-file"],
    [["put-secret", "db-password", "--value-stdin", "--value-file", "/x"], "exactly one of"],
    [["put-secret", "db-password", "--value-file", "/nonexistent/value"], "cannot read --value-file"],
    [["put-secret", "--value-stdin"], "missing required argument 'name'"],
  ])("exits 2 for %j without a request", async (args, message) => {
    const result = await sluice(args, "x");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(server.requests).toHaveLength(0);
  });
});

describe("list-secrets and delete-secret", () => {
  it("lists names and metadata", async () => {
    server.respondData({ secretsV2: { nodes: [secret], pageInfo: { hasNextPage: false, endCursor: null } } });
    const result = await sluice(["list-secrets"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ secrets: [secret] });
    expect(server.requests[0]!.body).toEqual({
      query: LIST_SECRETS_QUERY,
      variables: { first: 100, after: null },
    });
  });

  it("deletes by name and says so on stderr", async () => {
    server.respondData({ deleteSecretV2: { deletedSecretName: "x" } });
    expect(await sluice(["delete-secret", "db-password"])).toEqual({
      code: 0,
      stdout: "",
      stderr: "Deleted the secret db-password.\n",
    });
    expect(server.requests[0]!.body).toEqual({
      query: DELETE_SECRET_MUTATION,
      variables: { name: "db-password" },
    });
  });
});
