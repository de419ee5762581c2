/**
 * What the retention tests share: running a pipeline's executions to their end through a
 * TestWorker, and finding what NATS still keeps of an execution (its log subjects, its artifact
 * objects).
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { natsNames, type JobMessage } from "@sluice/protocol";
import { CREATE, shellBuild, sourceThen } from "./documents";
import { dataOf, type TestServer } from "./server";
import { eventually } from "./wait";
import type { TestWorker } from "./worker";

export const EXECUTION_STATUS = `query ($id: ID!) { pipelineExecution(id: $id) { id status } }`;

export function retentionHelpers(t: TestServer, worker: TestWorker, nc: NatsConnection) {
  async function finished(id: string): Promise<void> {
    await eventually(
      async () => dataOf(await t.gql(EXECUTION_STATUS, { id })).pipelineExecution.status === "Succeeded",
      60_000,
      `execution ${id} to succeed`,
    );
  }

  /** Releases the pipeline and waits for the execution to succeed; its id. */
  async function runToEnd(pipelineName: string): Promise<string> {
    const { id } = dataOf(
      await t.gql(`mutation ($p: String!) { releaseChange(pipelineName: $p) { id } }`, { p: pipelineName }),
    ).releaseChange;
    await finished(id);
    return id;
  }

  /** A Source → Build pipeline; its first execution (creating it starts one) once it succeeded. */
  async function createPipeline(name: string): Promise<string> {
    dataOf(
      await t.gql(CREATE, {
        input: sourceThen(name, {
          name: "Build",
          actions: [shellBuild("Compile", "make", { outputArtifacts: [{ name: "Out" }] })],
        }),
      }),
    );
    const first = await eventually(async () => {
      const rows: Array<{ id: string }> = await t.server.db.query(
        `SELECT e.id FROM pipeline_executions e JOIN pipelines p ON p.id = e.pipeline_id WHERE p.name = $1`,
        [name],
      );
      return rows[0]?.id;
    });
    await finished(first);
    return first;
  }

  const jobsOf = (executionId: string): JobMessage[] =>
    worker.jobs.filter((j) => j.executionId === executionId);

  /** Whether the job's log subject still holds a message. */
  async function logKept(job: JobMessage): Promise<boolean> {
    const jsm = await jetstreamManager(nc);
    const names = natsNames(t.natsPrefix);
    try {
      const message = await jsm.streams.getMessage(names.streams.logs, {
        last_by_subj: names.subjects.log(job.jobId),
      });
      return message !== null;
    } catch (error) {
      if (/no message found/i.test((error as Error).message)) return false;
      throw error;
    }
  }

  /** The execution's artifact objects still in the object store. */
  async function objectsOf(executionId: string): Promise<string[]> {
    const bucket = await new Objm(nc).open(natsNames(t.natsPrefix).artifactsBucket);
    return (await bucket.list()).map((o) => o.name).filter((name) => name.startsWith(`${executionId}/`));
  }

  /** Whether the execution is still there (the API answers null for a deleted one). */
  async function exists(id: string): Promise<boolean> {
    return dataOf(await t.gql(EXECUTION_STATUS, { id })).pipelineExecution !== null;
  }

  /** `sluice_retention_deleted_total` by kind, scraped from /metrics. */
  async function deletedCounters(token: string): Promise<Record<string, number>> {
    const text = await fetch(t.url.replace(/\/graphql$/, "/metrics"), {
      headers: { authorization: `Bearer ${token}` },
    }).then((r) => r.text());
    return Object.fromEntries(
      [...text.matchAll(/^sluice_retention_deleted_total\{kind="(\w+)"\} (\d+)$/gm)].map((m) => [
        m[1]!,
        Number(m[2]),
      ]),
    );
  }

  return { finished, runToEnd, createPipeline, jobsOf, logKept, objectsOf, exists, deletedCounters };
}
