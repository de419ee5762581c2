import { ROTATE_SIGNING_KEY_MUTATION } from "../src/commands/admin";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (args: string[]) => run([...args, "--endpoint", server.endpoint]);

const rotation = {
  publicKey: "k".repeat(43),
  retiring: [{ publicKey: "o".repeat(43), retiresAt: "2026-12-15T06:05:00.000Z" }],
};

describe("admin rotate-signing-key", () => {
  it("asks for a rotation with the grace given, and prints the new key and the keys retiring", async () => {
    server.respondData({ rotateSigningKey: { rotation } });
    const result = await sluice(["admin", "rotate-signing-key", "--grace-seconds", "3600"]);
    expect(result).toEqual({ code: 0, stderr: "", stdout: `${JSON.stringify(rotation, null, 2)}\n` });
    expect(server.requests[0]!.body).toEqual({
      query: ROTATE_SIGNING_KEY_MUTATION,
      variables: { graceSeconds: 3600 },
    });
  });

  it("leaves the grace to the server when none is given", async () => {
    server.respondData({ rotateSigningKey: { rotation: { ...rotation, retiring: [] } } });
    expect((await sluice(["admin", "rotate-signing-key"])).code).toBe(0);
    expect(server.requests[0]!.body).toEqual({
      query: ROTATE_SIGNING_KEY_MUTATION,
      variables: { graceSeconds: null },
    });
  });

  it.each(["-5", "1.5", "soon", "10000000000"])(
    "refuses --grace-seconds %s without asking the server",
    async (value) => {
      const result = await sluice(["admin", "rotate-signing-key", "--grace-seconds", value]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--grace-seconds");
      expect(server.requests).toHaveLength(0);
    },
  );
});
