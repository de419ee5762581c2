import { jetstream, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import {
  decode,
  natsNames,
  type AcceptMessage,
  type CompleteMessage,
  type NatsNames,
} from "@sluice/protocol";
import type { ExecutionEngine } from "../engine/execution-engine";
import type { Logger } from "../logger";
import type { NatsLink } from "./nats";

/**
 * Reads agents' accepts and completes from the results stream through the durable consumer that
 * every server copy shares, and applies each as one engine event. A message is acknowledged only
 * after its transaction committed; one that fails is redelivered. Handlers are idempotent by
 * (action execution id, attempt), so a redelivery changes nothing.
 */
export class ResultsConsumer {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private readonly names: NatsNames;

  constructor(
    private readonly nats: NatsLink,
    prefix: string,
    private readonly engine: ExecutionEngine,
    private readonly logger: Logger,
  ) {
    this.names = natsNames(prefix);
  }

  async start(): Promise<void> {
    const nc = this.nats.nats;
    if (!nc) throw new Error("NATS is not connected");
    const consumer = await jetstream(nc).consumers.get(
      this.names.streams.results,
      this.names.consumers.engine,
    );
    this.messages = await consumer.consume({ max_messages: 64 });
    this.loop = this.run(this.messages);
  }

  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      try {
        await this.handle(msg);
        msg.ack();
      } catch (error) {
        this.logger.error({ err: error, subject: msg.subject }, "result not applied; it will be redelivered");
        msg.nak(1000);
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const parsed = this.names.parse(msg.subject);
    if (parsed?.kind === "accept") {
      const accept = this.decoded<AcceptMessage>("accept", msg);
      if (!accept) return;
      await this.engine.applyAgentEvent(accept.jobId, {
        type: "ActionStarted",
        actionExecutionId: accept.jobId,
        attempt: accept.attempt,
        agent: { id: accept.agent.id, name: accept.agent.name },
      });
    } else if (parsed?.kind === "complete") {
      const done = this.decoded<CompleteMessage>("complete", msg);
      if (!done) return;
      await this.engine.applyAgentEvent(done.jobId, {
        type: "ActionCompleted",
        actionExecutionId: done.jobId,
        attempt: done.attempt,
        outcome: done.outcome,
        summary: done.summary,
        errorDetails:
          done.outcome === "Failed" && done.errorDetails
            ? { code: done.errorDetails.code ?? done.failureType, message: done.errorDetails.message }
            : done.outcome === "Failed"
              ? { code: done.failureType, message: done.summary }
              : null,
        externalUrl: done.externalUrl ?? null,
        outputVariables: done.outputVariables,
        outputArtifacts: done.outputArtifacts,
      });
    }
    // Job heartbeats extend the agent's lease: the agents issue handles them.
  }

  /** A message that does not decode is logged and dropped (acknowledged): redelivery cannot fix it. */
  private decoded<T>(kind: "accept" | "complete", msg: JsMsg): T | null {
    const result = decode(kind, msg.data, msg.subject);
    if (!result.ok) {
      this.logger.warn({ subject: msg.subject, error: result.error.message }, "malformed result dropped");
      return null;
    }
    return result.message as T;
  }
}
