/**
 * Retention when NATS goes away in the middle: the executions leave the database with their logs
 * and artifacts queued in `retention_purges`; the round fails on NATS, and once NATS is back the
 * next round removes the logs and artifacts and empties the queue. Nothing is orphaned.
 */
import { Objm } from "@nats-io/obj";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "@sluice/protocol";
import { CREATE, shellBuild, sourceThen } from "../support/documents";
import { writeLogChunk } from "../support/logs";
import { connectNats, deleteStreams, NATS_URL } from "../support/nats";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { TcpProxy } from "../support/tcp-proxy";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(120_000);

let t: TestServer | undefined;
let proxy: TcpProxy | undefined;
let nc: NatsConnection | undefined;
let worker: TestWorker | undefined;
afterAll(async () => {
  await worker?.stop();
  await t?.stop();
  await proxy?.close();
  if (t) await deleteStreams(t.natsPrefix);
  await nc?.close();
});

const STATUS = `query ($id: ID!) { pipelineExecution(id: $id) { status } }`;

it("finishes an interrupted purge on the next round once NATS is back", async () => {
  const target = new URL(NATS_URL);
  proxy = await TcpProxy.start(target.hostname, Number(target.port || 4222));
  t = await startTestServer({
    env: {
      NATS_URL: `nats://127.0.0.1:${proxy.port}`,
      SLUICE_RETENTION_DAYS: "0",
      SLUICE_RETENTION_MAX_EXECUTIONS: "1",
      SLUICE_RETENTION_INTERVAL_SECONDS: "86400",
    },
  });
  const server = t;
  await server.server.messagingReady;
  nc = await connectNats();
  worker = await TestWorker.start(server.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.actionTypeId.category === "Source"
      ? { outcome: "Succeeded", outputVariables: { CommitId: "0123abc" } }
      : { outcome: "Succeeded" },
  );
  dataOf(
    await server.gql(CREATE, {
      input: sourceThen("kept-short", {
        name: "Build",
        actions: [shellBuild("Compile", "make", { outputArtifacts: [{ name: "Out" }] })],
      }),
    }),
  );
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const existing: Array<{ id: string; status: string }> = await server.server.db.query(
      `SELECT id, status FROM pipeline_executions ORDER BY start_time`,
    );
    const id =
      i === 0
        ? existing[0]!.id
        : dataOf(await server.gql(`mutation { releaseChange(pipelineName: "kept-short") { id } }`))
            .releaseChange.id;
    await eventually(
      async () => dataOf(await server.gql(STATUS, { id })).pipelineExecution.status === "Succeeded",
      60_000,
      `execution ${id} to succeed`,
    );
    ids.push(id);
  }
  let sequence = 0;
  for (const job of worker.jobs) await writeLogChunk(nc, server.natsPrefix, job, ++sequence, "stdout", "x\n");
  const doomed = ids.slice(0, 2);
  const names = natsNames(server.natsPrefix);
  const bucket = await new Objm(nc).open(names.artifactsBucket);
  const objectsOf = async (id: string) =>
    (await bucket.list()).map((o) => o.name).filter((name) => name.startsWith(`${id}/`));
  const jsm = await jetstreamManager(nc);
  const logsOf = async (id: string) => {
    let count = 0;
    for (const job of worker!.jobs.filter((j) => j.executionId === id)) {
      const message = await jsm.streams.getMessage(names.streams.logs, {
        last_by_subj: names.subjects.log(job.jobId),
      });
      if (message) count++;
    }
    return count;
  };
  for (const id of doomed) {
    expect(await objectsOf(id)).not.toHaveLength(0);
    expect(await logsOf(id)).toBe(2);
  }

  // NATS goes away (for this server only): the round deletes the rows and fails on NATS.
  const ready = () => fetch(server.url.replace(/\/graphql$/, "/readyz")).then((r) => r.status);
  proxy.disconnect();
  await eventually(async () => (await ready()) === 503, 30_000, "the server to see NATS gone");
  await expect(server.server.retention.runOnce()).rejects.toThrow();
  for (const id of doomed) expect(dataOf(await server.gql(STATUS, { id })).pipelineExecution).toBeNull();
  const queued: Array<{ execution_id: string }> = await server.server.db.query(
    `SELECT execution_id FROM retention_purges ORDER BY execution_id`,
  );
  expect(queued.map((r) => r.execution_id)).toEqual([...doomed].sort());
  for (const id of doomed) expect(await objectsOf(id)).not.toHaveLength(0);

  // NATS is back: the next round removes what was queued.
  proxy.restore();
  await eventually(async () => (await ready()) === 200, 30_000, "the server to see NATS again");
  const report = await server.server.retention.runOnce();
  expect(report).toMatchObject({ executions: 0, logSubjects: 4 });
  expect(report.artifacts).toBeGreaterThanOrEqual(4);
  for (const id of doomed) {
    expect(await objectsOf(id)).toEqual([]);
    expect(await logsOf(id)).toBe(0);
  }
  expect(await server.server.db.query(`SELECT 1 FROM retention_purges`)).toHaveLength(0);
  expect(await objectsOf(ids[2]!)).not.toHaveLength(0);
  expect(await logsOf(ids[2]!)).toBe(2);
});
