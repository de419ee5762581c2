/**
 * Retention (messaging/retention.ts) on real PostgreSQL and NATS: old executions go by count and
 * by age with their history, log subjects and artifact objects, while an execution runs; what a
 * running execution needs (the source of a rollback's artifacts) and each pipeline's latest
 * execution stay; old audit events, finished notification deliveries and expired webhook replay
 * records go; a round that runs on two connections at once deletes everything once.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { writeLogChunk } from "../support/logs";
import { connectNats } from "../support/nats";
import { EXECUTION_STATUS as STATUS, retentionHelpers } from "../support/retention";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(120_000);

let t: TestServer;
let nc: NatsConnection;
let worker: TestWorker;
let holdBuilds = false;
let h: ReturnType<typeof retentionHelpers>;

beforeAll(async () => {
  t = await startTestServer({
    env: {
      // Installation: keep two executions per pipeline, no age limit; "aged": 30 days, no count.
      SLUICE_RETENTION_DAYS: "0",
      SLUICE_RETENTION_MAX_EXECUTIONS: "2",
      SLUICE_RETENTION_PIPELINES: JSON.stringify({ aged: { days: 30, maxExecutions: 0 } }),
      // Rounds only when the test asks for one.
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

it("deletes by count and by age while an execution runs, keeping what it needs", async () => {
  // "rolling": four finished executions, each with a log and artifacts.
  const rolling = [await h.createPipeline("rolling")];
  for (let i = 0; i < 3; i++) rolling.push(await h.runToEnd("rolling"));
  // "aged": three finished executions, all older than its 30 days.
  const aged = [await h.createPipeline("aged")];
  for (let i = 0; i < 2; i++) aged.push(await h.runToEnd("aged"));
  let sequence = 0;
  for (const job of worker.jobs) await writeLogChunk(nc, t.natsPrefix, job, ++sequence, "stdout", "built\n");
  await t.server.db.query(
    `UPDATE pipeline_executions SET last_update_time = now() - interval '40 days' WHERE id = ANY($1)`,
    [aged],
  );
  for (const id of [...rolling, ...aged]) expect(await h.objectsOf(id)).not.toHaveLength(0);

  // A rollback to the first execution runs (held by the worker) with that execution's artifacts.
  holdBuilds = true;
  const rollback = dataOf(
    await t.gql(
      `mutation ($id: ID!) { rollbackStage(pipelineName: "rolling", stageName: "Build", targetExecutionId: $id) { id } }`,
      { id: rolling[0] },
    ),
  ).rollbackStage.id as string;
  await worker.waitFor((jobs) => jobs.some((j) => j.executionId === rollback));
  const held = h.jobsOf(rollback)[0]!;
  expect(held.inputArtifacts.some((a) => a.objectKey.startsWith(`${rolling[0]}/`))).toBe(true);

  // Old audit events, finished deliveries and replay records beyond their windows.
  const db = t.server.db;
  const [{ id: oldAudit }] = await db
    .query(
      `UPDATE audit_events SET at = now() - interval '400 days'
      WHERE id = (SELECT min(id) FROM audit_events) RETURNING id`,
    )
    .then((r: any) => r[0]);
  const auditBefore = Number((await db.query(`SELECT count(*) AS n FROM audit_events`))[0].n);
  const [{ id: targetId }] = await db.query(
    `INSERT INTO notification_targets (name, kind, settings, created_by) VALUES ('t', 'WEBHOOK', '{}', 'test') RETURNING id`,
  );
  await db.query(
    `INSERT INTO notification_deliveries (event_key, rule_name, target_id, pipeline_name, event_type, notification, status, created_at, give_up_at)
     VALUES ('old-delivered', 'r', $1, 'rolling', 'EXECUTION_SUCCEEDED', '{}', 'DELIVERED', now() - interval '40 days', now()),
            ('old-pending', 'r', $1, 'rolling', 'EXECUTION_SUCCEEDED', '{}', 'PENDING', now() - interval '40 days', now() + interval '1 day'),
            ('new-delivered', 'r', $1, 'rolling', 'EXECUTION_SUCCEEDED', '{}', 'DELIVERED', now(), now())`,
    [targetId],
  );
  const [{ id: rollingId }] = await db.query(`SELECT id FROM pipelines WHERE name = 'rolling'`);
  await db.query(
    `INSERT INTO webhook_deliveries (digest, pipeline_id, received_at)
     VALUES ('old', $1, now() - interval '2 days'), ('new', $1, now())`,
    [rollingId],
  );

  // Two rounds at once (as from two server copies): one does the work, none does it twice.
  const reports = await Promise.all([t.server.retention.runOnce(), t.server.retention.runOnce()]);
  const total = (
    kind:
      | "executions"
      | "artifacts"
      | "auditEvents"
      | "notificationDeliveries"
      | "webhookDeliveries"
      | "logSubjects",
  ) => reports.reduce((sum, r) => sum + r[kind], 0);
  expect(total("executions")).toBe(4);
  expect(total("auditEvents")).toBe(1);
  expect(total("notificationDeliveries")).toBe(1);
  expect(total("webhookDeliveries")).toBe(1);

  // By count: the two oldest unneeded executions of "rolling" are gone with their logs and objects.
  const gone = [rolling[1]!, rolling[2]!, aged[0]!, aged[1]!];
  const kept = [rolling[0]!, rolling[3]!, rollback, aged[2]!];
  for (const id of gone) {
    expect(dataOf(await t.gql(STATUS, { id })).pipelineExecution).toBeNull();
    expect(await h.objectsOf(id)).toEqual([]);
    for (const job of h.jobsOf(id)) expect(await h.logKept(job)).toBe(false);
    const events = await db.query(`SELECT 1 FROM execution_events WHERE execution_id = $1`, [id]);
    expect(events).toHaveLength(0);
  }
  expect(total("logSubjects")).toBe(gone.flatMap(h.jobsOf).length);
  expect(total("artifacts")).toBeGreaterThanOrEqual(gone.length * 2);
  // Kept: the rollback's source (its artifacts are the running job's inputs), the latest of each
  // pipeline, and what is younger or within the count.
  for (const id of kept) {
    expect(dataOf(await t.gql(STATUS, { id })).pipelineExecution.id).toBe(id);
    for (const job of h.jobsOf(id).filter((j) => j.executionId !== rollback))
      expect(await h.logKept(job)).toBe(true);
  }
  for (const id of [rolling[0]!, rolling[3]!, aged[2]!]) expect(await h.objectsOf(id)).not.toHaveLength(0);
  expect(await db.query(`SELECT 1 FROM audit_events WHERE id = $1`, [oldAudit])).toHaveLength(0);
  expect(Number((await db.query(`SELECT count(*) AS n FROM audit_events`))[0].n)).toBeGreaterThanOrEqual(
    auditBefore - 1,
  );
  expect(
    (await db.query(`SELECT event_key FROM notification_deliveries ORDER BY event_key`)).map(
      (r: { event_key: string }) => r.event_key,
    ),
  ).toEqual(["new-delivered", "old-pending"]);
  expect(
    (await db.query(`SELECT digest FROM webhook_deliveries`)).map((r: { digest: string }) => r.digest),
  ).toEqual(["new"]);
  expect(await db.query(`SELECT 1 FROM retention_purges`)).toHaveLength(0);

  // The running rollback finishes with its inputs intact.
  await worker.finish(held, { outcome: "Succeeded" });
  await h.finished(rollback);

  // What was deleted is counted in the metrics.
  const metrics = await fetch(t.url.replace(/\/graphql$/, "/metrics"), {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  }).then((r) => r.text());
  expect(metrics).toContain('sluice_retention_deleted_total{kind="executions"} 4');
  expect(metrics).toContain('sluice_retention_deleted_total{kind="auditEvents"} 1');

  // A later round finds nothing more to do.
  const again = await t.server.retention.runOnce();
  expect(again.executions).toBe(0);
});
