import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  PROTOCOL_VERSION,
  decode,
  encode,
  jobConsumerConfig,
  msgIds,
  natsNames,
  type ActionTypeId,
  type JobMessage,
  type StoredArtifact,
} from "@sluice/protocol";
import { connectNats } from "./nats";
import { publishAccept } from "./worker";
import type { GraphQLHttpClient } from "./gql";
import { sleep } from "./stats";

/**
 * A registered agent identity held by the bench process (an agent token of its own, registered
 * over NATS) that takes the jobs of one pool and holds their leases: what the job artifact routes
 * (PROTOCOL.md 9.3) need, so that the bench moves artifacts through the server as an agent does.
 */
export class LeaseHolder {
  private readonly queue: JobMessage[] = [];
  private readonly waiters: Array<{
    matches: (job: JobMessage) => boolean;
    resolve: (job: JobMessage) => void;
  }> = [];
  private readonly streams: ConsumerMessages[] = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly prefix: string,
    readonly agentId: string,
    readonly token: string,
    private readonly gql: GraphQLHttpClient,
  ) {}

  static async start(
    gql: GraphQLHttpClient,
    prefix: string,
    pool: string,
    types: ActionTypeId[],
  ): Promise<LeaseHolder> {
    const { createAgentToken } = await gql.data<{ createAgentToken: { token: string } }>(
      `mutation { createAgentToken(description: "bench lease holder") { token } }`,
    );
    const nc = await connectNats("sluice-bench-lease-holder");
    const names = natsNames(prefix);
    const reply = await nc.request(
      names.subjects.register,
      encode("registerRequest", {
        protocolVersion: PROTOCOL_VERSION,
        token: createAgentToken.token,
        name: "bench-lease-holder",
        pool,
        providers: types,
        version: "bench",
        capacity: 4,
        labels: {},
      }),
      { timeout: 10_000 },
    );
    const answer = reply.json<{ ok: boolean; agentId?: string; error?: string }>();
    if (!answer.ok || !answer.agentId) throw new Error(`registration refused: ${answer.error}`);
    const js = jetstream(nc);
    const holder = new LeaseHolder(nc, js, prefix, answer.agentId, createAgentToken.token, gql);
    const jsm = await jetstreamManager(nc);
    for (const type of types) {
      const config = jobConsumerConfig(prefix, pool, type);
      await jsm.consumers.add(names.streams.jobs, config as never);
      const consumer = await js.consumers.get(names.streams.jobs, config.durable_name);
      const messages = await consumer.consume({ max_messages: 4 });
      holder.streams.push(messages);
      void (async () => {
        for await (const msg of messages) {
          const decoded = decode("job", msg.data, msg.subject);
          msg.ack();
          if (decoded.ok) await holder.take(decoded.message);
        }
      })().catch(() => undefined);
    }
    return holder;
  }

  /**
   * The job of `actionName` in execution `executionId`, once taken and its accept applied by the
   * server (its lease is this agent's). Other jobs taken meanwhile stay held (a pipeline's creation
   * may start an execution of its own).
   */
  async next(executionId: string, actionName: string): Promise<JobMessage> {
    const matches = (j: JobMessage) => j.executionId === executionId && j.actionName === actionName;
    let job = this.queue.find(matches);
    if (job) this.queue.splice(this.queue.indexOf(job), 1);
    else job = await new Promise<JobMessage>((resolve) => this.waiters.push({ matches, resolve }));
    const query = `query ($id: ID!) { pipelineExecution(id: $id) { stages { actions { name status } } } }`;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(10)) {
      const data = await this.gql.data<{
        pipelineExecution: { stages: Array<{ actions: Array<{ name: string; status: string | null }> }> };
      }>(query, { id: executionId });
      const action = data.pipelineExecution.stages
        .flatMap((s) => s.actions)
        .find((a) => a.name === actionName);
      if (action?.status === "InProgress") return job;
    }
    throw new Error(`the accept of ${actionName} was not applied within 30 s`);
  }

  async succeed(job: JobMessage, outputArtifacts: StoredArtifact[] = []): Promise<void> {
    const names = natsNames(this.prefix);
    await this.js.publish(
      names.subjects.complete,
      encode("complete", {
        jobId: job.jobId,
        attempt: job.attempt,
        leaseToken: job.leaseToken,
        agentId: this.agentId,
        outcome: "Succeeded",
        summary: "bench",
        outputVariables: {},
        outputArtifacts,
        finishedAt: new Date().toISOString(),
      }),
      { msgID: msgIds.complete(job.jobId, job.attempt, this.agentId) },
    );
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.stop();
    await this.nc.close();
  }

  private async take(job: JobMessage): Promise<void> {
    await publishAccept(this.js, this.prefix, job, { id: this.agentId, name: "bench-lease-holder" });
    const waiter = this.waiters.find((w) => w.matches(job));
    if (waiter) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(job);
    } else this.queue.push(job);
  }
}
