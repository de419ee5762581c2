/**
 * The cause an agent reports with a failed complete (PROTOCOL.md 8.1) decides the retry, through
 * the one classification of domain/execution/failures.ts: an older agent's code read as its cause,
 * a retryable cause retried under its policy condition, a cause that is not retryable never
 * retried, whatever the policy names. Real PostgreSQL and NATS; the agent is the protocol test
 * worker.
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { msgIds, natsNames, type JobMessage } from "@sluice/protocol";
import { Client } from "pg";
import { CREATE, shellBuild, sourceThen } from "../support/documents";
import { connectNats } from "../support/nats";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(60_000);

let t: TestServer;
let nc: NatsConnection;
let worker: TestWorker;
let sql: Client;

beforeAll(async () => {
  t = await startTestServer();
  nc = await connectNats();
  sql = new Client({ connectionString: t.database!.url });
  await sql.connect();
  // Sources succeed; builds wait for the test to say how they end.
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.actionTypeId.category === "Source" ? { outcome: "Succeeded" } : "hold",
  );
});

afterAll(async () => {
  await worker?.stop();
  await sql?.end();
  await nc?.close();
  await t?.stop();
});

/** The build's job of this attempt, once the worker holds it. */
async function build(attempt: number): Promise<JobMessage> {
  await worker.waitFor((jobs) =>
    jobs.some((j) => j.actionTypeId.category === "Build" && j.attempt === attempt),
  );
  return worker.jobs.find((j) => j.actionTypeId.category === "Build" && j.attempt === attempt)!;
}

/** A complete as an agent older than failureCause sent it: raw JSON, a code, no cause. */
async function olderAgentFails(job: JobMessage, code: string): Promise<void> {
  const complete = {
    jobId: job.jobId,
    attempt: job.attempt,
    leaseToken: job.leaseToken,
    agentId: worker.agentId,
    outcome: "Failed",
    failureType: "SystemUnavailable",
    summary: "the agent left",
    errorDetails: { message: "the agent left", code },
    finishedAt: new Date().toISOString(),
  };
  await jetstream(nc).publish(
    natsNames(t.natsPrefix).subjects.complete,
    new TextEncoder().encode(JSON.stringify(complete)),
    { msgID: msgIds.complete(job.jobId, job.attempt, worker.agentId) },
  );
}

async function attempts(): Promise<Array<Record<string, unknown>>> {
  const { rows } = await sql.query(`SELECT view FROM pipeline_executions`);
  return rows[0]?.view.stages[1].actions[0].attempts ?? [];
}

it("retries a failure by its cause's classification and records the cause", async () => {
  dataOf(
    await t.gql(CREATE, {
      input: sourceThen("causes", {
        name: "Build",
        actions: [
          shellBuild("Make", "make", {
            retryPolicy: { maxAttempts: 5, backoffSeconds: 0, on: ["FAILED", "AGENT_LOST"] },
          }),
        ],
      }),
    }),
  );

  // 1. An older agent's Shutdown: the agent went away, the job did not fail (AGENT_LOST): retried.
  await olderAgentFails(await build(1), "Shutdown");
  // 2. A command that exited non-zero (FAILED): retried.
  const second = await build(2);
  await worker.finish(second, { outcome: "Failed", summary: "exit 2" }, (complete) => {
    complete.failureCause = "ProcessExit";
  });
  // 3. A configuration the agent cannot run: not retryable, although the policy names FAILED and
  //    allows two more attempts.
  const third = await build(3);
  await worker.finish(third, { outcome: "Failed", summary: "no Commands" }, (complete) => {
    complete.failureType = "ConfigurationError";
    complete.failureCause = "ConfigurationInvalid";
  });

  const status = await eventually(
    async () => {
      const { rows } = await sql.query(`SELECT status FROM pipeline_executions`);
      return rows[0]?.status === "Failed" ? rows[0].status : undefined;
    },
    20_000,
    "the execution to fail",
  );
  expect(status).toBe("Failed");
  expect((await attempts()).map((a) => [a.attempt, a.status, a.cause, a.failureCause])).toEqual([
    [1, "Failed", "AgentShutdown", "AGENT_LOST"],
    [2, "Failed", "ProcessExit", "FAILED"],
    [3, "Failed", "ConfigurationInvalid", "FAILED"],
  ]);
  expect(worker.jobs.filter((j) => j.actionTypeId.category === "Build")).toHaveLength(3);
});
