import { jetstream, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import {
  decode,
  encode,
  isTransientNatsError,
  msgIds,
  natsNames,
  type AcceptMessage,
  type CompleteMessage,
  type HeartbeatMessage,
  type NatsNames,
} from "@sluice/protocol";
import type { RuntimeEvent } from "../domain/execution";
import type { AgentEventItem, ExecutionEngine } from "../engine/execution-engine";
import type { LeaseTokens } from "../engine/lease-tokens";
import type { Logger } from "../logger";
import { isUnavailable } from "../persistence/unavailable";
import type { MessageSigner } from "./message-signer";
import type { NatsLink } from "./nats";
import { OutputCheck } from "./output-check";
import { context, extractTraceHeaders, inSpan, SpanKind, trace, type Context } from "../telemetry/tracing";

/** Between two tries of a result held while PostgreSQL is away. */
const HOLD_MIN_MS = 250;
const HOLD_MAX_MS = 2000;
/**
 * A result that fails for another reason (a bug, not an outage) is redelivered with a growing
 * delay, then terminated after this many deliveries (about three minutes), logged as an error: it
 * must not hold back the leases (results-progress.ts) forever.
 */
const MAX_DELIVERIES = 10;
/** Group commit: results applied together at most, and read ahead of the engine at most. */
const MAX_BATCH = 64;
const MAX_WAITING = 256;

/** Gives one result's event to the engine (at once, or with the rest of its batch). */
type Submit = (item: AgentEventItem) => Promise<{ revokedAgent: string | null }>;

/**
 * Reads agents' accepts and completes from the results stream through the durable consumer that
 * every server copy shares, and applies each as one engine event. A message is acknowledged only
 * after its transaction committed. Handlers are idempotent by (action execution id, attempt), so
 * a redelivery changes nothing.
 *
 * While PostgreSQL is away a result is held, not failed: it is tried again (and kept from
 * redelivery with `working()`) until it is applied, and the results behind it wait in order. A
 * heartbeat renews its lease from when NATS stored it, so the ones applied late count in time.
 */
export class ResultsConsumer {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private readonly names: NatsNames;

  constructor(
    private readonly nats: NatsLink,
    prefix: string,
    private readonly engine: ExecutionEngine,
    private readonly leaseTokens: LeaseTokens,
    private readonly logger: Logger,
    /** Signs the cancels it sends (PROTOCOL.md 11.5). */
    private readonly signer: MessageSigner,
    /** Told the size of every batch applied (the metrics' sluice_results_batch_size). */
    private readonly observeBatch: (size: number) => void = () => undefined,
  ) {
    this.names = natsNames(prefix);
    this.outputs = new OutputCheck(nats, this.names.artifactsBucket);
  }

  private readonly outputs: OutputCheck;

  /**
   * Whether the sender proved it received this attempt (PROTOCOL.md 6.2): the agent id in a result
   * is only a claim, the lease token is the proof. A result without it changes nothing and is told
   * nothing (telling would let anyone cancel another agent's job by naming it).
   */
  private proven(kind: string, message: { jobId: string; attempt: number; leaseToken: string }): boolean {
    if (this.leaseTokens.verifies(message.jobId, message.attempt, message.leaseToken)) return true;
    this.logger.warn(
      { kind, jobId: message.jobId, attempt: message.attempt },
      "result with a wrong lease token dropped: its sender did not receive this job",
    );
    return false;
  }

  async start(): Promise<void> {
    const nc = this.nats.nats;
    if (!nc) throw new Error("NATS is not connected");
    this.stopping = false;
    const consumer = await jetstream(nc).consumers.get(
      this.names.streams.results,
      this.names.consumers.engine,
    );
    // Pulls that expire after 5 s (idle heartbeats every 2.5 s): when the consumer's leader is lost
    // (a NATS node of a cluster), the missed heartbeats start a new pull within seconds instead of
    // the half minute of the default 30 s pulls.
    this.messages = await consumer.consume({ max_messages: 64, expires: 5000 });
    this.loop = this.run(this.messages);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    await this.loop;
  }

  /**
   * Group commit: while one batch of results is applied, the results that arrive wait, then go
   * together as the next batch (up to MAX_BATCH). A result that arrives alone is applied at once, as
   * before; under load, the results of one pipeline that arrived together cost one transaction.
   */
  private async run(messages: ConsumerMessages): Promise<void> {
    const waiting: JsMsg[] = [];
    // The loop waiting for results, and the reader waiting for room.
    const signal: { wake: (() => void) | null; room: (() => void) | null } = { wake: null, room: null };
    let ended = false;
    const reader = (async () => {
      try {
        for await (const msg of messages) {
          waiting.push(msg);
          signal.wake?.();
          // Enough waiting: read no further until a batch is taken (the rest stays in JetStream).
          if (waiting.length >= MAX_WAITING) await new Promise<void>((resolve) => (signal.room = resolve));
        }
      } finally {
        ended = true;
        signal.wake?.();
      }
    })();
    for (;;) {
      if (waiting.length === 0) {
        if (ended) break;
        await new Promise<void>((resolve) => (signal.wake = resolve));
        signal.wake = null;
        // The rest of what one read from NATS brought arrives before the next macrotask: it joins.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const batch = waiting.splice(0, MAX_BATCH);
      signal.room?.();
      signal.room = null;
      await this.applyBatch(batch);
    }
    await reader;
  }

  /** The engine at once, for one result (the path of a batch of one, and of every retry). */
  private readonly applyNow: Submit = (item) =>
    this.engine.applyAgentEvent(item.actionExecutionId, item.event, item.sender);

  /**
   * A batch of results: each is handled as alone (decoded, its lease token checked, its outputs
   * compared), up to the event it gives the engine; those events go to the engine together
   * (applyAgentEvents: one transaction per pipeline), in the batch's order. A result whose
   * transaction failed goes through `apply` again, alone and in order: held while the database is
   * away, redelivered or terminated otherwise.
   */
  private async applyBatch(batch: JsMsg[]): Promise<void> {
    this.observeBatch(batch.length);
    if (batch.length === 1) return this.apply(batch[0]!);
    const submitted: Array<{
      index: number;
      item: AgentEventItem;
      parent: Context;
      resolve: (outcome: { revokedAgent: string | null }) => void;
      reject: (error: unknown) => void;
    }> = [];
    let reached = 0;
    let allReached!: () => void;
    const everyoneReached = new Promise<void>((resolve) => (allReached = resolve));
    const handled = batch.map((msg, index) => {
      let counted = false;
      const reach = () => {
        if (counted) return;
        counted = true;
        if (++reached === batch.length) allReached();
      };
      const submit: Submit = (item) =>
        new Promise((resolve, reject) => {
          submitted.push({ index, item, parent: context.active(), resolve, reject });
          reach();
        });
      return this.handle(msg, submit)
        .then(
          () => true,
          () => false,
        )
        .finally(reach);
    });
    await everyoneReached;
    if (submitted.length > 0) {
      submitted.sort((a, b) => a.index - b.index);
      // The transactions join the trace of the first result that asked for them.
      const outcomes = await context
        .with(submitted[0]!.parent, () => this.engine.applyAgentEvents(submitted.map((s) => s.item)))
        .catch((error: unknown) => submitted.map(() => ({ error })));
      submitted.forEach((s, i) => {
        const outcome = outcomes[i]!;
        if ("error" in outcome) s.reject(outcome.error);
        else s.resolve(outcome);
      });
    }
    const ok = await Promise.all(handled);
    for (const [i, msg] of batch.entries()) {
      if (ok[i]) msg.ack();
      else await this.apply(msg);
    }
  }

  /** Applies one result, holding it while the database is away; acks, naks or terminates it. */
  private async apply(msg: JsMsg): Promise<void> {
    let hold = HOLD_MIN_MS;
    for (let held = false; ;) {
      try {
        await this.handle(msg);
        msg.ack();
        if (held) this.logger.info({ subject: msg.subject }, "held result applied");
        return;
      } catch (error) {
        // The database away, or a NATS cluster electing the leader of the artifacts' stream.
        const passes = isUnavailable(error) || isTransientNatsError(error);
        if (passes && !this.stopping) {
          if (!held)
            this.logger.warn({ err: (error as Error).message }, "database or NATS away; holding the result");
          held = true;
          msg.working();
          await new Promise((resolve) => setTimeout(resolve, hold));
          hold = Math.min(HOLD_MAX_MS, hold * 2);
          continue;
        }
        const deliveries = msg.info.deliveryCount;
        if (deliveries >= MAX_DELIVERIES && !passes) {
          this.logger.error(
            { err: error, subject: msg.subject, deliveries },
            "result not applied after repeated deliveries; dropped",
          );
          msg.term();
        } else {
          this.logger.error(
            { err: error, subject: msg.subject },
            "result not applied; it will be redelivered",
          );
          msg.nak(Math.min(30_000, 1000 * 2 ** (deliveries - 1)));
        }
        return;
      }
    }
  }

  /** How long ago NATS stored the message (its clock and ours agree to NTP's precision). */
  private static storedAgoMs(msg: JsMsg): number {
    return Math.max(0, Date.now() - msg.info.timestampNanos / 1e6);
  }

  /**
   * An accept or complete is handled in a span whose parent is the agent's job span (the trace
   * context in the message's headers), so the engine transaction it causes joins the job's trace.
   */
  private handle(msg: JsMsg, submit: Submit = this.applyNow): Promise<void> {
    const kind = this.names.parse(msg.subject)?.kind;
    if (kind !== "accept" && kind !== "complete") return this.handleResult(msg, submit);
    return inSpan(
      `results ${kind}`,
      { "messaging.system": "nats", "sluice.message.kind": kind },
      () => this.handleResult(msg, submit),
      { kind: SpanKind.CONSUMER, parent: extractTraceHeaders(msg.headers) },
    );
  }

  private async handleResult(msg: JsMsg, submit: Submit): Promise<void> {
    const parsed = this.names.parse(msg.subject);
    if (parsed?.kind === "accept") {
      const accept = this.decoded<AcceptMessage>("accept", msg);
      if (!accept || !this.proven("accept", accept)) return;
      trace
        .getActiveSpan()
        ?.setAttributes({ "sluice.job.id": accept.jobId, "sluice.job.attempt": accept.attempt });
      // A revoked agent took the job (NATS does not know our tokens): it must not run it, and the
      // attempt fails as if its agent were lost, so the retry policy moves it elsewhere. The engine
      // reads the sender's revocation in the statement that locks the pipeline.
      const { revokedAgent } = await submit({
        actionExecutionId: accept.jobId,
        event: {
          type: "ActionStarted",
          actionExecutionId: accept.jobId,
          attempt: accept.attempt,
          agent: { id: accept.agent.id, name: accept.agent.name },
          leaseSeconds: this.engine.leaseSeconds,
        },
        sender: {
          agentId: accept.agent.id,
          whenRevoked: (name) => ({
            type: "ActionCompleted",
            actionExecutionId: accept.jobId,
            attempt: accept.attempt,
            outcome: "Failed",
            summary: `Agent ${name} took the job after its token was revoked.`,
            errorDetails: { code: "AgentRevoked", message: `The token of agent ${name} was revoked.` },
            failureType: "SystemUnavailable",
            cause: "AgentRevoked",
          }),
        },
      });
      if (revokedAgent !== null) this.tell(accept.agent.id, accept.jobId, accept.attempt, "Revoked");
    } else if (parsed?.kind === "heartbeat") {
      const beat = this.decoded<HeartbeatMessage>("heartbeat", msg);
      if (!beat || !this.proven("heartbeat", beat)) return;
      const renewed = await this.engine.renewLease(
        beat.jobId,
        beat.attempt,
        beat.agentId,
        ResultsConsumer.storedAgoMs(msg),
      );
      if (renewed) return;
      // No lease of this agent: fine while its accept is on its way; otherwise it must stop.
      const holder = await this.engine.attemptHolder(beat.jobId, beat.attempt);
      if (holder === null || holder.status === "Queued") return;
      if (holder.status !== "InProgress") this.tell(beat.agentId, beat.jobId, beat.attempt, "NotRunning");
      else if (holder.agentId !== beat.agentId)
        this.tell(beat.agentId, beat.jobId, beat.attempt, "Duplicate");
    } else if (parsed?.kind === "complete") {
      const done = this.decoded<CompleteMessage>("complete", msg);
      if (!done || !this.proven("complete", done)) return;
      trace.getActiveSpan()?.setAttributes({
        "sluice.job.id": done.jobId,
        "sluice.job.attempt": done.attempt,
        "sluice.job.outcome": done.outcome,
      });
      // Whatever a revoked agent reports (the job it killed on learning it, a cancel's result), its
      // attempt ends as its lease would: agent lost, so the retry policy moves it elsewhere.
      const revoked = (name: string): RuntimeEvent => ({
        type: "ActionCompleted",
        actionExecutionId: done.jobId,
        attempt: done.attempt,
        outcome: "Failed",
        summary: `The token of agent ${name} was revoked; the attempt was stopped.`,
        errorDetails: { code: "AgentRevoked", message: `The token of agent ${name} was revoked.` },
        failureType: "SystemUnavailable",
        cause: "AgentRevoked",
        agentId: done.agentId,
      });
      const sender = { agentId: done.agentId, whenRevoked: revoked };
      const mismatch = await this.outputs.mismatch(done);
      if (mismatch !== null) {
        await submit({
          actionExecutionId: done.jobId,
          event: {
            type: "ActionCompleted",
            actionExecutionId: done.jobId,
            attempt: done.attempt,
            outcome: "Failed",
            summary: mismatch,
            errorDetails: { code: "ArtifactMismatch", message: mismatch },
            failureType: "JobFailed",
            cause: "ArtifactMismatch",
            agentId: done.agentId,
          },
          sender,
        });
        return;
      }
      await submit({
        actionExecutionId: done.jobId,
        event: {
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
          failureType: done.outcome === "Failed" ? done.failureType : null,
          // The agent's own words (older agents': read from their code by the codec, PROTOCOL.md
          // 8.1); the engine classifies it (domain/execution/failures.ts).
          cause: done.outcome === "Failed" ? done.failureCause : null,
          testReport: done.testReport ?? null,
          agentId: done.agentId,
        },
        sender,
      });
    }
  }

  /** A cancel for one agent's ears only (core NATS): Duplicate, NotRunning, Revoked. */
  private tell(agentId: string, jobId: string, attempt: number, reason: string): void {
    try {
      const subject = this.names.subjects.agentCancel(agentId);
      const body = encode("cancel", { jobId, attempt, reason });
      const msgId = `${msgIds.cancel(jobId, attempt)}:${agentId}`;
      this.nats.nats?.publish(subject, body, {
        headers: this.signer.headers("agentCancel", subject, msgId, body),
      });
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, agentId }, "cancel not sent");
    }
  }

  /** A message that does not decode is logged and dropped (acknowledged): redelivery cannot fix it. */
  private decoded<T>(kind: "accept" | "heartbeat" | "complete", msg: JsMsg): T | null {
    const result = decode(kind, msg.data, msg.subject);
    if (!result.ok) {
      this.logger.warn({ subject: msg.subject, error: result.error.message }, "malformed result dropped");
      return null;
    }
    return result.message as T;
  }
}
