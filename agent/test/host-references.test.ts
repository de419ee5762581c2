/** Secrets kept on the agent's host: only what the operator shares, read at the last moment. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseConfig } from "../src/config";
import { BUILTIN_PROVIDER_IDS } from "../src/providers/registry";
import { HostReferenceError, hasHostReferences, resolveHostReferences } from "../src/runtime/host-references";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-host-secrets-"));
  fs.mkdirSync(path.join(dir, "secrets", "db"), { recursive: true });
  fs.writeFileSync(path.join(dir, "secrets", "db", "password"), "file-s3cret\n");
  fs.writeFileSync(path.join(dir, "outside"), "not to be read\n");
  fs.symlinkSync(path.join(dir, "outside"), path.join(dir, "secrets", "escape"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const allowed = () => ({ env: ["DEPLOY_KEY"], dir: path.join(dir, "secrets") });
const environment = { DEPLOY_KEY: "env-s3cret", SLUICE_AGENT_TOKEN: "agent-token", OTHER: "x" };

it("replaces shared environment variables and files, and returns the values to mask", () => {
  const configuration = {
    Token: "{{resolve:agent-env:DEPLOY_KEY}}",
    Dsn: "postgres://app:{{resolve:agent-file:db/password}}@db/app",
    Plain: "no reference",
  };
  expect(hasHostReferences(configuration)).toBe(true);
  expect(hasHostReferences({ Plain: "no reference" })).toBe(false);
  expect(resolveHostReferences(configuration, allowed(), environment)).toEqual({
    configuration: { Token: "env-s3cret", Dsn: "postgres://app:file-s3cret@db/app", Plain: "no reference" },
    values: ["env-s3cret", "file-s3cret"],
  });
});

it.each([
  ["{{resolve:agent-env:OTHER}}", /OTHER is not an environment variable this agent shares/],
  [
    "{{resolve:agent-env:SLUICE_AGENT_TOKEN}}",
    /SLUICE_AGENT_TOKEN is not an environment variable this agent shares/,
  ],
  ["{{resolve:agent-file:../outside}}", /outside the agent's secret directory/],
  ["{{resolve:agent-file:escape}}", /outside the agent's secret directory/],
  ["{{resolve:agent-file:/etc/passwd}}", /outside the agent's secret directory/],
  ["{{resolve:agent-file:missing}}", /does not exist/],
])("refuses %s, naming the reference and never a value", (value, message) => {
  const run = () => resolveHostReferences({ V: value }, allowed(), environment);
  expect(run).toThrow(HostReferenceError);
  expect(run).toThrow(message);
  try {
    run();
  } catch (error) {
    expect(String(error)).not.toMatch(/agent-token|not to be read|root:/);
  }
});

it("reads nothing when the operator shares nothing", () => {
  expect(() =>
    resolveHostReferences({ V: "{{resolve:agent-env:DEPLOY_KEY}}" }, { env: [] }, environment),
  ).toThrow(HostReferenceError);
  expect(() =>
    resolveHostReferences({ V: "{{resolve:agent-file:db/password}}" }, { env: [] }, environment),
  ).toThrow(/no secret directory/);
});

it("takes the shared names and directory from flags or the environment, never the agent's own settings", () => {
  const ok = parseConfig(
    ["--token", "tok-12345678", "--secret-env", "DEPLOY_KEY, API_KEY", "--secret-dir", dir],
    { SLUICE_NATS_INSECURE: "1" },
    BUILTIN_PROVIDER_IDS,
  );
  expect(ok.ok === true && ok.config.hostSecrets).toEqual({ env: ["DEPLOY_KEY", "API_KEY"], dir });
  const bad = parseConfig(
    ["--token", "tok-12345678"],
    { SLUICE_AGENT_SECRET_ENV: "SLUICE_AGENT_TOKEN", SLUICE_NATS_INSECURE: "1" },
    BUILTIN_PROVIDER_IDS,
  );
  expect(bad.ok).toBe(false);
  expect(bad.ok === false && bad.errors.join("\n")).toMatch(
    /--secret-env \(SLUICE_AGENT_SECRET_ENV\): must not name/,
  );
});
