import { Objm } from "@nats-io/obj";
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient } from "@nats-io/jetstream";
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
}

export const GIT: ActionTypeId = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };
export const SHELL = (category: "Build" | "Test" | "Deploy"): ActionTypeId => ({
  category,
  owner: "Sluice",
  provider: "Shell",
  version: "1",
});

/**
 * A job responder that speaks the NATS job protocol (protocol/PROTOCOL.md) like an agent: takes
 * jobs from the jobs stream, acknowledges them, reports accept, then complete with `decide`'s
 * outcome. It lets the bench create executions through the real engine.
 */
export class JobResponder {
  completed = 0;
  private streams: ConsumerMessages[] = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly prefix: string,
    private readonly decide: (job: JobMessage) => Outcome,
    private readonly agentId: string,
  ) {}

  static async start(
    prefix: string,
    types: ActionTypeId[],
    decide: (job: JobMessage) => Outcome,
    agentId = "bench-agent",
  ): Promise<JobResponder> {
    const nc = await connectNats("sluice-bench-agent");
    const js = jetstream(nc);
    const responder = new JobResponder(nc, js, prefix, decide, agentId);
    const jsm = await jetstreamManager(nc);
    const names = natsNames(prefix);
    for (const type of types) {
      const config = jobConsumerConfig(prefix, "default", type);
      await jsm.consumers.add(names.streams.jobs, config as never);
      const consumer = await js.consumers.get(names.streams.jobs, config.durable_name);
      const messages = await consumer.consume({ max_messages: 16 });
      responder.streams.push(messages);
      void (async () => {
        for await (const msg of messages) {
          const decoded = decode("job", msg.data, msg.subject);
          msg.ack();
          if (decoded.ok) await responder.take(decoded.message);
        }
      })();
    }
    return responder;
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.stop();
    await this.nc.close();
  }

  private async take(job: JobMessage): Promise<void> {
    const names = natsNames(this.prefix);
    await publishAccept(this.js, this.prefix, job, { id: this.agentId, name: this.agentId });
    const outcome = this.decide(job);
    // The server checks each reported output against the object store, so the outputs are stored.
    const store = job.outputArtifacts.length ? await new Objm(this.nc).open(names.artifactsBucket) : null;
    const outputArtifacts = await Promise.all(
      job.outputArtifacts.map(async (a) => {
        const bytes = Buffer.from(`${job.jobId}/${a.name}`);
        const objectKey = artifactKey(job.executionId, job.jobId, job.attempt, a.name);
        await store!.putBlob({ name: objectKey }, bytes);
        return {
          name: a.name,
          objectKey,
          size: bytes.length,
          sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
        };
      }),
    );
    const complete = {
      jobId: job.jobId,
      attempt: job.attempt,
      leaseToken: job.leaseToken,
      agentId: this.agentId,
      outcome: outcome.outcome,
      summary: outcome.summary ?? outcome.outcome,
      outputVariables: outcome.outputVariables ?? {},
      ...(outcome.outcome === "Failed"
        ? { errorDetails: { code: "ExitCode", message: outcome.summary ?? "exit status 1" } }
        : {}),
      outputArtifacts,
      finishedAt: new Date().toISOString(),
    };
    await this.js.publish(names.subjects.complete, encode("complete", complete as never), {
      msgID: msgIds.complete(job.jobId, job.attempt, this.agentId),
    });
    this.completed++;
  }
}

/** Tells the server an agent took `job` (what a real agent's accept says), stored in JetStream. */
export async function publishAccept(
  js: JetStreamClient,
  prefix: string,
  job: JobMessage,
  agent: { id: string; name: string },
): Promise<void> {
  await js.publish(
    natsNames(prefix).subjects.accept,
    encode("accept", {
      protocolVersion: PROTOCOL_VERSION,
      jobId: job.jobId,
      attempt: job.attempt,
      leaseToken: job.leaseToken,
      agent: { ...agent, version: "bench" },
      startedAt: new Date().toISOString(),
    }),
    { msgID: msgIds.accept(job.jobId, job.attempt) },
  );
}
