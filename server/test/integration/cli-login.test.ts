/**
 * `sluice login`, `logout` and `set-password` (the built CLI, as a process) against a real server:
 * the session token is kept in the credentials file (0600) and used by later commands, --token and
 * SLUICE_TOKEN still win, logout revokes it on the server, and no password or token is printed.
 * On a terminal (a pseudo-terminal from script(1)) the password is asked for without echo.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(120_000);

const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");

let t: TestServer;
let dir: string;
let credentials: string;
beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  t = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cli-login-"));
  credentials = path.join(dir, "config", "sluice", "credentials.json");
  dataOf(await t.gql(`mutation { createUser(name: "pam") { name } }`));
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs the CLI with `stdin`, with only the environment given (no SLUICE_TOKEN unless given). */
function sluice(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          XDG_CONFIG_HOME: path.join(dir, "config"),
          SLUICE_ENDPOINT: t.url,
          ...options.env,
        },
        cwd: dir,
      },
      (error, stdout, stderr) =>
        resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 }),
    );
    child.stdin!.end(options.stdin ?? "");
  });
}

const PASSWORD = "quiet harbour lights 7";
const NEW_PASSWORD = "another harbour at dusk";
const asAdmin = { SLUICE_TOKEN: ADMIN_TOKEN };

it("set-password --user-name: an administrator sets a password from stdin; a weak one is refused", async () => {
  const weak = await sluice(["set-password", "--user-name", "pam", "--password-stdin"], {
    stdin: "short\n",
    env: asAdmin,
  });
  expect(weak.code).toBe(1);
  expect(weak.stderr).toMatch(/too short/);
  const set = await sluice(["set-password", "--user-name", "pam", "--password-stdin"], {
    stdin: `${PASSWORD}\n`,
    env: asAdmin,
  });
  expect([set.code, JSON.parse(set.stdout)]).toEqual([0, { passwordSet: true }]);
});

it("login without a terminal needs --password-stdin; a wrong password is refused and nothing is stored", async () => {
  const noTty = await sluice(["login", "--user-name", "pam"]);
  expect(noTty.code).toBe(2);
  expect(noTty.stderr).toMatch(/--password-stdin/);
  const wrong = await sluice(["login", "--user-name", "pam", "--password-stdin"], {
    stdin: "not it at all\n",
  });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toContain("Wrong user name or password.");
  expect(fs.existsSync(credentials)).toBe(false);
});

it("login stores the session (0600); later commands use it; --token and SLUICE_TOKEN still win; logout revokes it", async () => {
  const login = await sluice(["login", "--user-name", "pam", "--password-stdin"], { stdin: `${PASSWORD}\n` });
  expect(login.code).toBe(0);
  const printed = JSON.parse(login.stdout);
  expect(printed).toEqual({ principal: "user/pam", expiresAt: expect.any(String) });
  expect(login.stderr).toContain(credentials);
  expect(fs.statSync(credentials).mode & 0o777).toBe(0o600);
  const stored = JSON.parse(fs.readFileSync(credentials, "utf8"));
  const session = Object.values(stored)[0] as { token: string; expiresAt: string };
  expect(Object.keys(stored)).toEqual([new URL(t.url).toString()]);
  expect(session.token).toMatch(/^slc_/);
  expect(session.expiresAt).toBe(printed.expiresAt);
  expect(`${login.stdout}${login.stderr}`).not.toContain(session.token);
  expect(`${login.stdout}${login.stderr}`).not.toContain(PASSWORD);

  const who = await sluice(["whoami"]);
  expect([who.code, JSON.parse(who.stdout).identity.principal]).toEqual([0, "user/pam"]);
  expect(JSON.parse((await sluice(["whoami"], { env: asAdmin })).stdout).identity.principal).toBe(
    "user/admin",
  );
  expect(JSON.parse((await sluice(["whoami", "--token", ADMIN_TOKEN])).stdout).identity.principal).toBe(
    "user/admin",
  );

  // Changing one's own password keeps this session.
  const changed = await sluice(["set-password", "--password-stdin"], {
    stdin: `${PASSWORD}\n${NEW_PASSWORD}\n`,
  });
  expect([changed.code, changed.stdout && JSON.parse(changed.stdout)]).toEqual([0, { passwordSet: true }]);
  expect((await sluice(["whoami"])).code).toBe(0);

  const logout = await sluice(["logout"]);
  expect([logout.code, JSON.parse(logout.stdout)]).toEqual([0, { signedOut: true }]);
  expect(JSON.parse(fs.readFileSync(credentials, "utf8"))).toEqual({});
  const revoked = await sluice(["whoami", "--token", session.token]);
  expect(revoked.code).toBe(1);
  expect(revoked.stderr).toMatch(/UNAUTHENTICATED|token/);
  const again = await sluice(["logout"]);
  expect([again.code, JSON.parse(again.stdout)]).toEqual([0, { signedOut: false }]);
  // The new password signs in; the old one no longer does.
  expect((await sluice(["login", "--user-name", "pam", "--password-stdin"], { stdin: PASSWORD })).code).toBe(
    1,
  );
  expect(
    (await sluice(["login", "--user-name", "pam", "--password-stdin"], { stdin: NEW_PASSWORD })).code,
  ).toBe(0);
});

it("on a terminal, login asks for the password and does not echo it", async () => {
  fs.rmSync(credentials, { force: true });
  const TYPED = "typed at a terminal 42";
  dataOf(
    await t.gql(`mutation ($p: String!) { setUserPassword(userName: "pam", password: $p) }`, { p: TYPED }),
  );
  // script(1) gives the CLI a pseudo-terminal; what it prints comes back on script's stdout.
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} login --user-name pam`;
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      XDG_CONFIG_HOME: path.join(dir, "config"),
      SLUICE_ENDPOINT: t.url,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  await eventually(async () => output.includes("Password for pam: "), 20_000, "the password prompt");
  child.stdin.write(`${TYPED}\r`);
  expect(await exited).toBe(0);
  expect(output).not.toContain(TYPED);
  expect(output).toContain('"principal": "user/pam"');
  expect(Object.keys(JSON.parse(fs.readFileSync(credentials, "utf8")))).toHaveLength(1);
});
