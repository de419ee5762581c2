import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CHANGE_PASSWORD_MUTATION,
  SET_USER_PASSWORD_MUTATION,
  SIGN_IN_MUTATION,
  SIGN_OUT_MUTATION,
} from "../src/commands/session";
import { WHOAMI_QUERY } from "../src/commands/identity";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
let dir: string;
let file: string;
beforeEach(async () => {
  server = await startFakeServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-session-"));
  file = path.join(dir, "credentials.json");
});
afterEach(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ SLUICE_ENDPOINT: server.endpoint, SLUICE_CREDENTIALS_FILE: file });
const session = (expiresAt: string) => ({ token: "slc_session", expiresAt, principal: "user/pam" });
const later = () => new Date(Date.now() + 3600_000).toISOString();
const stored = () => JSON.parse(fs.readFileSync(file, "utf8"));

it("login asks on the terminal, sends no token, keeps the session (0600) and prints no secret", async () => {
  const prompts: string[] = [];
  server.respondData({ signInV2: session(later()) });
  const result = await run(["login", "--user-name", "pam"], {
    env: { ...env(), SLUICE_TOKEN: "ignored-for-sign-in" },
    secrets: ["typed secret 123"],
    prompts,
  });
  expect(result.code).toBe(0);
  expect(prompts).toEqual(["Password for pam: "]);
  expect(server.requests[0]!.body).toEqual({
    query: SIGN_IN_MUTATION,
    variables: { name: "pam", password: "typed secret 123" },
  });
  expect(server.requests[0]!.headers.authorization).toBeUndefined();
  expect(JSON.parse(result.stdout)).toEqual({ principal: "user/pam", expiresAt: expect.any(String) });
  expect(result.stdout + result.stderr).not.toMatch(/slc_session|typed secret/);
  expect(Object.values(stored())).toEqual([session(JSON.parse(result.stdout).expiresAt)]);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
});

it("login without a terminal needs --password-stdin, and takes the first line of stdin", async () => {
  const refused = await run(["login", "--user-name", "pam"], { env: env() });
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/--password-stdin/);
  expect(server.requests).toEqual([]);
  server.respondData({ signInV2: session(later()) });
  const result = await run(["login", "--user-name", "pam", "--password-stdin"], {
    env: env(),
    stdin: "with spaces inside \n",
  });
  expect(result.code).toBe(0);
  expect(server.requests[0]!.body.variables).toEqual({ name: "pam", password: "with spaces inside " });
});

it("later commands send the stored session; --token and SLUICE_TOKEN win; an expired one is not sent", async () => {
  fs.writeFileSync(file, JSON.stringify({ [new URL(server.endpoint).toString()]: session(later()) }));
  const who = { whoAmI: { principal: "user/pam" } };
  server.respondData(who, who, who);
  expect((await run(["whoami"], { env: env() })).code).toBe(0);
  expect((await run(["whoami"], { env: { ...env(), SLUICE_TOKEN: "from-env" } })).code).toBe(0);
  expect((await run(["whoami", "--token", "from-option"], { env: env() })).code).toBe(0);
  expect(server.requests.map((r) => r.headers.authorization)).toEqual([
    "Bearer slc_session",
    "Bearer from-env",
    "Bearer from-option",
  ]);
  expect(server.requests[0]!.body.query).toBe(WHOAMI_QUERY);
  fs.writeFileSync(
    file,
    JSON.stringify({
      [new URL(server.endpoint).toString()]: session(new Date(Date.now() - 1000).toISOString()),
    }),
  );
  server.respondData(who);
  await run(["whoami"], { env: env() });
  expect(server.requests[3]!.headers.authorization).toBeUndefined();
});

it("logout signs the stored session out and forgets it; an expired one is forgotten too", async () => {
  const key = new URL(server.endpoint).toString();
  fs.writeFileSync(
    file,
    JSON.stringify({ [key]: session(later()), "http://other/graphql": session(later()) }),
  );
  server.respondData({ signOutV2: { signedOut: true } });
  const result = await run(["logout"], { env: { ...env(), SLUICE_TOKEN: "not-this-one" } });
  expect([result.code, JSON.parse(result.stdout)]).toEqual([0, { signedOut: true }]);
  expect(server.requests[0]!.body.query).toBe(SIGN_OUT_MUTATION);
  expect(server.requests[0]!.headers.authorization).toBe("Bearer slc_session");
  expect(Object.keys(stored())).toEqual(["http://other/graphql"]);

  fs.writeFileSync(file, JSON.stringify({ [key]: session(later()) }));
  server.respond({
    body: { data: null, errors: [{ message: "expired", extensions: { code: "UNAUTHENTICATED" } }] },
  });
  const expired = await run(["logout"], { env: env() });
  expect([expired.code, JSON.parse(expired.stdout)]).toEqual([0, { signedOut: false }]);
  expect(stored()).toEqual({});

  const none = await run(["logout"], { env: env() });
  expect([none.code, JSON.parse(none.stdout)]).toEqual([0, { signedOut: false }]);
  expect(none.stderr).toMatch(/Not signed in/);
});

it("set-password: an administrator sets a user's (asked twice); users change their own (current, then new)", async () => {
  const prompts: string[] = [];
  server.respondData({ setUserPasswordV2: { userName: "x" } }, { changePasswordV2: { changed: true } });
  const set = await run(["set-password", "--user-name", "bob"], {
    env: env(),
    secrets: ["bob's new one!", "bob's new one!"],
    prompts,
  });
  expect([set.code, JSON.parse(set.stdout)]).toEqual([0, { passwordSet: true }]);
  expect(server.requests[0]!.body).toEqual({
    query: SET_USER_PASSWORD_MUTATION,
    variables: { userName: "bob", password: "bob's new one!" },
  });
  const own = await run(["set-password", "--password-stdin"], { env: env(), stdin: "old one\nnew one\n" });
  expect(own.code).toBe(0);
  expect(server.requests[1]!.body).toEqual({
    query: CHANGE_PASSWORD_MUTATION,
    variables: { currentPassword: "old one", newPassword: "new one" },
  });
  expect(prompts).toEqual(["New password for bob: ", "Repeat it: "]);

  const differ = await run(["set-password"], { env: env(), secrets: ["current", "one", "two"] });
  expect(differ.code).toBe(2);
  expect(differ.stderr).toMatch(/differ/);
  const short = await run(["set-password", "--password-stdin"], { env: env(), stdin: "only one line\n" });
  expect(short.code).toBe(2);
  expect(server.requests).toHaveLength(2);
});
