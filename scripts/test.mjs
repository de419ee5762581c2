#!/usr/bin/env node
// Root `npm test`: services, lint, build, then typecheck + jest in every workspace through turbo.
// The last line printed is always `N passed, N failed` (the sum over the workspaces' jest runs, plus one
// failed for each of lint, build and typecheck that failed: scripts/test-tally.mjs); the exit code is
// non-zero when anything failed: lint, build, typecheck, a test, or a test run that did not report
// (counted as 1 failed).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  EnsureError,
  ROOT,
  ensureDeps,
  ensureNats,
  ensurePostgres,
  log,
} from "./ensure-services.mjs";
import { tally } from "./test-tally.mjs";

const RESULTS_DIR = path.join(ROOT, ".test-results");
const problems = [];
let passed = 0;
let failed = 0;
let pending = 0;

function finish() {
  for (const p of problems) log(`FAILED: ${p}`);
  if (pending) log(`${pending} skipped`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(problems.length || failed ? 1 : 0);
}

function step(name, cmd, args, env) {
  log(`${name}: ${[cmd, ...args].join(" ")}`);
  const started = Date.now();
  const res = spawnSync(cmd, args, { cwd: ROOT, env, stdio: "inherit" });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const ok = res.status === 0;
  if (!ok)
    problems.push(`${name} (exit ${res.status ?? res.signal}${res.error ? `: ${res.error.message}` : ""})`);
  log(`${name} ${ok ? "passed" : "FAILED"} in ${secs}s`);
  return ok;
}

/** Workspace folders (plain names or "dir/*" globs) whose package.json has a test script. */
function testedWorkspaces() {
  const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const patterns = Array.isArray(rootPkg.workspaces)
    ? rootPkg.workspaces
    : (rootPkg.workspaces?.packages ?? []);
  const dirs = patterns.flatMap((p) => {
    if (!p.endsWith("/*")) return [p];
    const parent = path.join(ROOT, p.slice(0, -2));
    return fs.existsSync(parent) ? fs.readdirSync(parent).map((d) => path.join(p.slice(0, -2), d)) : [];
  });
  return dirs.flatMap((dir) => {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, dir, "package.json"), "utf8"));
      return pkg.scripts?.test ? [{ dir, name: pkg.name ?? dir }] : [];
    } catch {
      return [];
    }
  });
}

process.on("unhandledRejection", (err) => {
  problems.push(`test runner: ${err?.message ?? err}`);
  finish();
});

// 1. dependencies and services
try {
  ensureDeps();
  const env = process.env;
  env.DATABASE_URL ??= DEFAULT_DATABASE_URL;
  env.NATS_URL ??= DEFAULT_NATS_URL;
  await ensurePostgres(env.DATABASE_URL);
  await ensureNats(env.NATS_URL);
} catch (err) {
  problems.push(err instanceof EnsureError ? err.message : `setup: ${err?.message ?? err}`);
  failed += 1; // nothing could run
  finish();
}

const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: "1",
  NEXT_TELEMETRY_DISABLED: "1",
  JEST_JSON_DIR: RESULTS_DIR,
};
log(`DATABASE_URL=${env.DATABASE_URL.replace(/:[^:@/]*@/, ":***@")} NATS_URL=${env.NATS_URL}`);
fs.rmSync(RESULTS_DIR, { recursive: true, force: true });
fs.mkdirSync(RESULTS_DIR, { recursive: true });

const turbo = path.join(ROOT, "node_modules", ".bin", "turbo");

// 2. lint (fast; a failure counts as one failed in the total)
const failedSteps = [];
if (!step("lint", "npm", ["run", "--silent", "lint"], env)) failedSteps.push("lint");

// 3. build (the CLI's tests run the built programs), then typecheck and tests one task at a time
if (!step("build", turbo, ["run", "build", "--ui=stream"], env)) failedSteps.push("build");
const testStepFailed = !step(
  "typecheck and test",
  turbo,
  ["run", "typecheck", "test", "--concurrency=1", "--continue", "--ui=stream"],
  env,
);

// 4. add up what the workspaces' jest runs reported (scripts/jest-json-reporter.cjs)
const reports = fs
  .readdirSync(RESULTS_DIR)
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), "utf8")));
const silentWorkspaces = testedWorkspaces()
  .filter((ws) => !reports.some((r) => r.name === ws.name))
  .map((ws) => ws.name);
for (const name of silentWorkspaces) {
  problems.push(
    `${name}: its tests reported nothing (jest did not start, crashed, or the workspace's jest.config.js lacks the reporter)`,
  );
}
const total = tally({ failedSteps, testStepFailed, reports, silentWorkspaces });
for (const line of total.lines) log(line);
({ passed, failed, pending } = total);
finish();
