/**
 * The CLI's notification commands against a real server and a real HTTPS receiver: create a
 * target and a rule, list the rules, send a test message.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { selfSignedCertificate, startHttpsReceiver } from "../support/receivers";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

const run = promisify(execFile);
const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");
const SECRET = "cli-secret-0123456789";

let t: TestServer;
let cert: ReturnType<typeof selfSignedCertificate>;
let web: Awaited<ReturnType<typeof startHttpsReceiver>>;
beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  cert = selfSignedCertificate();
  web = await startHttpsReceiver(cert);
  t = await startTestServer({
    env: { SLUICE_NOTIFY_CA_FILE: cert.certFile, SLUICE_NOTIFY_ALLOW_PRIVATE: "true" },
  });
});
afterAll(async () => {
  await t?.stop();
  await web?.close();
  cert?.cleanup();
});

async function sluice(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: ADMIN_TOKEN },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

it("creates a target and a rule, lists the rules and sends a signed test message", async () => {
  web.expectSecret("/cli", SECRET);
  const target = await sluice(
    "create-notification-target",
    "--cli-input-json",
    JSON.stringify({ target: { name: "cli-hook", kind: "WEBHOOK", url: web.url("/cli"), secret: SECRET } }),
  );
  expect(target).toMatchObject({ code: 0, stderr: "" });
  const { notificationTarget } = JSON.parse(target.stdout);
  expect(notificationTarget).toMatchObject({ name: "cli-hook", secret: "****" });
  expect(target.stdout).not.toContain(SECRET);

  const bad = await sluice(
    "create-notification-rule",
    "--cli-input-json",
    JSON.stringify({ name: "r", eventTypes: ["STAGE_FAILED"], targetIds: ["not-a-target"] }),
  );
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("rule.targetIds[0]");

  const rule = await sluice(
    "create-notification-rule",
    "--cli-input-json",
    JSON.stringify({ name: "web-failures", pipelineName: "web", eventTypes: ["EXECUTION_FAILED"], targetIds: [notificationTarget.id] }),
  ); // prettier-ignore
  expect(rule.code).toBe(0);
  const { notificationRule } = JSON.parse(rule.stdout);
  expect(notificationRule).toMatchObject({ name: "web-failures", enabled: true, circuitOpen: false });

  const listed = JSON.parse((await sluice("list-notification-rules", "--pipeline-name", "web")).stdout);
  expect(listed.notificationRules.map((r: any) => r.name)).toEqual(["web-failures"]);
  const other = JSON.parse((await sluice("list-notification-rules", "--pipeline-name", "api")).stdout);
  expect(other.notificationRules).toEqual([]);

  const tested = await sluice("test-notification-rule", "--id", notificationRule.id);
  expect(tested.code).toBe(0);
  const [delivery] = JSON.parse(tested.stdout).deliveries;
  expect(delivery).toMatchObject({ eventType: "TEST", targetName: "cli-hook" });
  const received = await eventually(async () => web.accepted("/cli")[0]);
  expect(received.signatureValid).toBe(true);
  expect(received.json).toMatchObject({ id: delivery.id, type: "TEST", test: true });
});
