import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import crypto from "node:crypto";
import {
  PROTOCOL_VERSION,
  artifactKey,
  decode,
  encode,
  jobConsumerConfig,
  msgIds,
  natsNames,
  type ActionTypeId,
  type JobMessage,
} from "@sluice/protocol";
import { connectNats } from "./nats";

export interface Outcome {
  outcome: "Succeeded" | "Failed";
  summary?: string;
  outputVariables?: Record<string, string>;
  /**
   * The bytes of output artifacts, stored in the object store as an agent stores them. Outputs
   * not given here are stored with the job id as their content (the server checks every object).
   */
  artifacts?: Record<string, Uint8Array>;
  /**
   * Outputs already stored (through the server's job artifact routes, as an agent stores them):
   * reported as they are, and nothing is written to the object store.
   */
  stored?: Array<{ name: string; objectKey: string; size: number; sha256: string }>;
}

/** What the worker does with a job: answer at once, or hold it (`"hold"`) until `finish()`. */
export type Behaviour = (job: JobMessage) => Outcome | "hold";

/**
 * A job worker that speaks the real NATS job protocol (protocol/PROTOCOL.md): it takes jobs from
 * the jobs stream, acknowledges them, reports accept and complete on the results subjects. Tests
 * drive the engine through it, never around NATS.
 */
export class TestWorker {
  readonly jobs: JobMessage[] = [];
  private readonly waiters: Array<{ test: (jobs: JobMessage[]) => boolean; resolve: () => void }> = [];
  private streams: ConsumerMessages[] = [];
  private stopped = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly prefix: string,
    private readonly behaviour: Behaviour,
    readonly agentId: string,
    /** The agent id each job is accepted and completed under (default: agentId). */
    private readonly agentFor: (job: JobMessage) => string = () => agentId,
  ) {}

  static async start(
    prefix: string,
    types: ActionTypeId[],
    behaviour: Behaviour,
    agentId: string | ((job: JobMessage) => string) = "test-worker",
    natsUrl?: string,
    /** The account whose pool it serves (PROTOCOL.md 3.3); the default account's by default. */
    account?: string,
  ): Promise<TestWorker> {
    const nc = await connectNats(natsUrl);
    const js = jetstream(nc);
    const worker =
      typeof agentId === "string"
        ? new TestWorker(nc, js, prefix, behaviour, agentId)
        : new TestWorker(nc, js, prefix, behaviour, "test-worker", agentId);
    const jsm = await jetstreamManager(nc);
    const names = natsNames(prefix);
    for (const type of types) {
      const config = jobConsumerConfig(prefix, "default", type, account ? { account } : {});
      await jsm.consumers.add(names.streams.jobs, config as never);
      const consumer = await js.consumers.get(names.streams.jobs, config.durable_name);
      const messages = await consumer.consume({ max_messages: 16 });
      worker.streams.push(messages);
      void (async () => {
        for await (const msg of messages) {
          const decoded = decode("job", msg.data, msg.subject);
          msg.ack();
          // A job that arrives while the test stops the worker is left to the next holder.
          if (decoded.ok) await worker.take(decoded.message).catch((e) => worker.unlessStopped(e));
        }
        // The consumer's next pull may meet the connection stop() closed.
      })().catch((e) => worker.unlessStopped(e));
    }
    return worker;
  }

  /** Resolves when the worker has seen jobs for which `test` holds. */
  waitFor(test: (jobs: JobMessage[]) => boolean): Promise<void> {
    if (test(this.jobs)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Reports the job's result; `tamper` may change the complete before it is sent (rogue-worker tests). */
  async finish(
    job: JobMessage,
    outcome: Outcome,
    tamper?: (complete: Record<string, unknown>) => void,
  ): Promise<void> {
    const names = natsNames(this.prefix);
    const complete: Record<string, unknown> = {
      jobId: job.jobId,
      attempt: job.attempt,
      leaseToken: job.leaseToken,
      agentId: this.agentFor(job),
      outcome: outcome.outcome,
      summary: outcome.summary ?? outcome.outcome,
      outputVariables: outcome.outputVariables ?? {},
      outputArtifacts:
        outcome.stored ??
        (await Promise.all(
          job.outputArtifacts.map(async (a) => {
            const bytes = outcome.artifacts?.[a.name] ?? Buffer.from(job.jobId);
            const objectKey = artifactKey(job.executionId, job.jobId, job.attempt, a.name);
            const store = await new Objm(this.nc).open(names.artifactsBucket);
            await store.putBlob({ name: objectKey }, bytes);
            return {
              name: a.name,
              objectKey,
              size: bytes.length,
              sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
            };
          }),
        )),
      finishedAt: new Date().toISOString(),
    };
    tamper?.(complete);
    await this.js.publish(names.subjects.complete, encode("complete", complete as never), {
      msgID: msgIds.complete(job.jobId, job.attempt, this.agentFor(job)),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.streams) s.stop();
    await this.nc.close();
  }

  private unlessStopped(error: unknown): void {
    if (!this.stopped) throw error;
  }

  private async take(job: JobMessage): Promise<void> {
    const names = natsNames(this.prefix);
    await this.js.publish(
      names.subjects.accept,
      encode("accept", {
        protocolVersion: PROTOCOL_VERSION,
        jobId: job.jobId,
        attempt: job.attempt,
        leaseToken: job.leaseToken,
        agent: { id: this.agentFor(job), name: this.agentFor(job), version: "test" },
        startedAt: new Date().toISOString(),
      }),
      { msgID: msgIds.accept(job.jobId, job.attempt) },
    );
    this.jobs.push(job);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(this.jobs)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    const decision = this.behaviour(job);
    if (decision !== "hold") await this.finish(job, decision);
  }
}

export const SHELL = (category: "Build" | "Test" | "Deploy"): ActionTypeId => ({
  category,
  owner: "Sluice",
  provider: "Shell",
  version: "1",
});
export const GIT: ActionTypeId = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };
