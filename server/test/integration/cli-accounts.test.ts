/**
 * The accounts and roles commands of the built CLI against a real server (PostgreSQL, NATS):
 * create-account, assume-role --export evaluated by a real shell (the line sets SLUICE_TOKEN,
 * which every command reads), create-role with a trust policy file, attach-policy on a role.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../support/server";

jest.setTimeout(120_000);

const run = promisify(execFile);
const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");

let t: TestServer;
let dir: string;
beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  t = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cli-accounts-"));
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs a shell script with `sluice` on hand, as the token given (SLUICE_TOKEN). */
async function shell(
  script: string,
  token: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const prelude = `sluice() { "${process.execPath}" "${CLI}" "$@"; }\nset -e\n`;
  try {
    const { stdout, stderr } = await run("bash", ["-c", prelude + script], {
      env: { PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: token },
      cwd: dir,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const ok = async (script: string, token: string) => {
  const result = await shell(script, token);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  return result.stdout;
};

it("create-account, then assume-role --export into it, sets it up; a user of it assumes a role of the default account", async () => {
  const account = JSON.parse(
    await ok(`sluice create-account --account-id team-b --description "Team B"`, ADMIN_TOKEN),
  );
  expect(account).toEqual({
    account: { id: "team-b", description: "Team B", createdAt: expect.any(String), createdBy: "user/admin" },
  });
  expect(
    JSON.parse(await ok(`sluice list-accounts`, ADMIN_TOKEN)).accounts.map((a: { id: string }) => a.id),
  ).toEqual(["default", "team-b"]);

  // eval the export line in the shell: the next commands act as team-b's AccountAccessRole.
  const bobToken = JSON.parse(
    await ok(
      `eval "$(sluice assume-role --role-srn srn:sluice:team-b:role/AccountAccessRole --role-session-name setup --export)"
       sluice create-user --user-name bob > /dev/null
       sluice attach-policy --policy-name ReadOnly --principal user/bob > /dev/null
       sluice put-policy --policy-name assume-deployer --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sluice:AssumeRole","Resource":"srn:sluice:default:role/deployer"}]}' > /dev/null
       sluice attach-policy --policy-name assume-deployer --principal user/bob > /dev/null
       sluice create-api-token --principal user/bob --description cli`,
      ADMIN_TOKEN,
    ),
  ).secret as string;

  // In the default account: a role trusting team-b's root (so bob's own policies must allow it).
  fs.writeFileSync(
    path.join(dir, "trust.json"),
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "sluice:AssumeRole", Principal: { Sluice: "srn:sluice:team-b:root" } },
      ],
    }),
  );
  const role = JSON.parse(
    await ok(
      `sluice create-role --role-name deployer --assume-role-policy-document file://trust.json --max-session-duration 900`,
      ADMIN_TOKEN,
    ),
  ).role;
  expect(role).toMatchObject({
    account: "default",
    name: "deployer",
    srn: "srn:sluice:default:role/deployer",
    maxSessionSeconds: 900,
  });
  expect(
    JSON.parse(
      await ok(`sluice attach-policy --policy-name Operator --principal role/deployer`, ADMIN_TOKEN),
    ),
  ).toEqual({
    attached: true,
  });
  expect(
    JSON.parse(await ok(`sluice list-roles`, ADMIN_TOKEN)).roles.map((r: { name: string }) => r.name),
  ).toEqual(["deployer"]);

  const credentials = JSON.parse(
    await ok(
      `sluice assume-role --role-srn srn:sluice:default:role/deployer --role-session-name bob-cli --duration-seconds 300`,
      bobToken,
    ),
  ).credentials;
  expect(credentials).toMatchObject({
    secret: expect.stringMatching(/^slc_/),
    assumedRole: { srn: "srn:sluice:default:role/deployer", account: "default", sessionName: "bob-cli" },
  });
  const identity = JSON.parse(await ok(`sluice whoami`, credentials.secret)).identity;
  expect(identity).toMatchObject({
    principal: "user/bob",
    account: "team-b",
    actingAccount: "default",
    assumedRole: { srn: "srn:sluice:default:role/deployer", sessionName: "bob-cli" },
    policies: [{ name: "Operator", attachedTo: "role/deployer" }],
  });

  // Beyond the role's maximum: the server's error, exit code non-zero.
  const tooLong = await shell(
    `sluice assume-role --role-srn srn:sluice:default:role/deployer --role-session-name x1 --duration-seconds 901`,
    bobToken,
  );
  expect(tooLong.code).not.toBe(0);
  expect(tooLong.stderr).toMatch(/durationSeconds/);
});
