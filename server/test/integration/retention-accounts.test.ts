/**
 * Retention per account (docs/backup.md, "Per account and per pipeline") on real PostgreSQL and
 * NATS: an account's setting, set with the built CLI (`sluice put-account-retention`), prunes the
 * pipelines that have no setting of their own while an execution of theirs runs; a pipeline's own
 * setting (SLUICE_RETENTION_PIPELINES) beats it figure by figure, the account's filling the figures
 * the pipeline leaves out; the installation's applies when the account has none. What went is
 * counted in `sluice_retention_deleted_total` on /metrics, and the setting's change is audited.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { NatsConnection } from "@nats-io/transport-node";
import { writeLogChunk } from "../support/logs";
import { connectNats } from "../support/nats";
import { retentionHelpers } from "../support/retention";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(180_000);

const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");

let t: TestServer;
let nc: NatsConnection;
let worker: TestWorker;
let holdBuilds = false;
let h: ReturnType<typeof retentionHelpers>;

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  t = await startTestServer({
    env: {
      // The installation keeps everything; "pinned" keeps 3 executions (and says nothing of age).
      SLUICE_RETENTION_DAYS: "0",
      SLUICE_RETENTION_MAX_EXECUTIONS: "0",
      SLUICE_RETENTION_PIPELINES: JSON.stringify({ pinned: { maxExecutions: 3 } }),
      SLUICE_RETENTION_INTERVAL_SECONDS: "86400",
    },
  });
  nc = await connectNats();
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.actionTypeId.category === "Build" && holdBuilds ? "hold" : { outcome: "Succeeded" },
  );
  h = retentionHelpers(t, worker, nc);
});
afterAll(async () => {
  await worker?.stop();
  await nc?.close();
  await t?.stop();
});

const RETENTION_FIELDS = `account executionDays maxExecutions effectiveExecutionDays effectiveMaxExecutions updatedBy`;

it("an account's setting prunes its pipelines without one of their own while executions run; a pipeline's own setting beats it", async () => {
  const plain = [await h.createPipeline("plain")];
  const pinned = [await h.createPipeline("pinned")];
  for (let i = 0; i < 3; i++) plain.push(await h.runToEnd("plain"));
  for (let i = 0; i < 2; i++) pinned.push(await h.runToEnd("pinned"));
  let sequence = 0;
  for (const job of worker.jobs) await writeLogChunk(nc, t.natsPrefix, job, ++sequence, "stdout", "built\n");

  // No account setting yet: the installation's (keep everything) applies; "pinned" has its 3.
  expect(dataOf(await t.gql(`{ accountRetention(account: "default") { ${RETENTION_FIELDS} } }`))).toEqual({
    accountRetention: {
      account: "default",
      executionDays: null,
      maxExecutions: null,
      effectiveExecutionDays: 0,
      effectiveMaxExecutions: 0,
      updatedBy: null,
    },
  });
  expect((await t.server.retention.runOnce()).executions).toBe(0);
  const before = await h.deletedCounters(ADMIN_TOKEN);

  // The account keeps one execution per pipeline, set with the CLI as documented.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [CLI, "put-account-retention", "--account", "default", "--max-executions", "1"],
    { env: { PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: ADMIN_TOKEN } },
  );
  expect(JSON.parse(stdout)).toEqual({
    retention: {
      account: "default",
      executionDays: null,
      maxExecutions: 1,
      effectiveExecutionDays: 0,
      effectiveMaxExecutions: 1,
      updatedAt: expect.any(String),
      updatedBy: "user/admin",
    },
  });
  const [audited] = await t.server.db.query(
    `SELECT principal, outcome, arguments FROM audit_events WHERE operation = 'putAccountRetention'`,
  );
  expect(audited).toEqual({
    principal: "user/admin",
    outcome: "ok",
    arguments: { input: { account: "default", executionDays: null, maxExecutions: 1 } },
  });

  // An execution of "plain" runs (its build held) while the round deletes.
  holdBuilds = true;
  const running = dataOf(await t.gql(`mutation { releaseChange(pipelineName: "plain") { id } }`))
    .releaseChange.id as string;
  await worker.waitFor((jobs) =>
    jobs.some((j) => j.executionId === running && j.actionTypeId.category === "Build"),
  );

  const report = await t.server.retention.runOnce();
  // "plain" (the account's 1): its three oldest go; the running one stays, and so does the last
  // one whose build succeeded (the runtime names it: the Build stage's latest success).
  // "pinned" (its own 3 beat the account's 1): all three stay.
  const gone = [plain[0]!, plain[1]!, plain[2]!];
  const kept = [plain[3]!, running, pinned[0]!, pinned[1]!, pinned[2]!];
  expect(report.executions).toBe(gone.length);
  for (const id of gone) {
    expect(await h.exists(id)).toBe(false);
    expect(await h.objectsOf(id)).toEqual([]);
    for (const job of h.jobsOf(id)) expect(await h.logKept(job)).toBe(false);
  }
  for (const id of kept) expect(await h.exists(id)).toBe(true);

  // The counters moved by what went.
  const after = await h.deletedCounters(ADMIN_TOKEN);
  expect((after.executions ?? 0) - (before.executions ?? 0)).toBe(gone.length);
  expect((after.logSubjects ?? 0) - (before.logSubjects ?? 0)).toBe(gone.flatMap(h.jobsOf).length);
  expect((after.artifacts ?? 0) - (before.artifacts ?? 0)).toBeGreaterThanOrEqual(gone.length);

  // Figure by figure: the account now keeps 10 days and inherits the count (none). "pinned" has no
  // age of its own, so the account's 10 days apply to it, and its own count of 3 still holds.
  dataOf(
    await t.gql(
      `mutation { putAccountRetention(input: { account: "default", executionDays: 10 }) { accountRetention { ${RETENTION_FIELDS} } } }`,
    ),
  );
  await t.server.db.query(
    `UPDATE pipeline_executions SET last_update_time = now() - interval '40 days' WHERE id = ANY($1)`,
    [pinned],
  );
  const aged = await t.server.retention.runOnce();
  // pinned[2] is its pipeline's latest; "plain"'s are younger than 10 days.
  expect(aged.executions).toBe(2);
  for (const id of [pinned[0]!, pinned[1]!]) expect(await h.exists(id)).toBe(false);
  for (const id of [pinned[2]!, plain[3]!, running]) expect(await h.exists(id)).toBe(true);
  expect((await h.deletedCounters(ADMIN_TOKEN)).executions! - (before.executions ?? 0)).toBe(gone.length + 2);

  // The held build finishes: the execution that ran during the rounds is whole.
  holdBuilds = false;
  const held = h.jobsOf(running).find((j) => j.actionTypeId.category === "Build")!;
  await worker.finish(held, { outcome: "Succeeded" });
  await h.finished(running);
});

it("refuses figures out of range and an unknown account, changing nothing", async () => {
  const bad = await t.gql(
    `mutation { putAccountRetention(input: { account: "default", maxExecutions: -1 }) { accountRetention { account } } }`,
  );
  expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  const unknown = await t.gql(`{ accountRetention(account: "nobody") { account } }`);
  expect(unknown.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  const missing = await t.gql(
    `mutation { putAccountRetention(input: { account: "nobody", executionDays: 3 }) { accountRetention { account } } }`,
  );
  expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  expect(
    dataOf(await t.gql(`{ accountRetention(account: "default") { executionDays maxExecutions } }`)),
  ).toEqual({ accountRetention: { executionDays: 10, maxExecutions: null } });
});
