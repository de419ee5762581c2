import crypto from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import {
  msgIds,
  natsNames,
  outputArtifactKeyPrefix,
  PROTOCOL_VERSION,
  type NatsNames,
} from "@sluice/protocol";
import type { Principal } from "../auth/principal";
import { DomainError, NotFoundError } from "../domain/errors";
import type { ActionTypeId } from "../domain/pipeline/document";
import {
  decide,
  executionView,
  lastSucceededExecution,
  parseTimerKey,
  timerKey,
  type ActionAttemptView,
  type Decision,
  type DispatchEffect,
  type Effect,
  type ExecutionView,
  type PipelineRuntime,
  type RetryMode,
  type RuntimeEvent,
  type SourceRevision,
  type Trigger,
} from "../domain/execution";
import type { PipelineEntity } from "../persistence/entities/pipeline.entity";
import { auditedTransaction } from "../persistence/audit-store";
import { ExecutionStore, type ExecutionRow, type LockedAgent } from "../persistence/execution-store";
import { outboxMessage, type OutboxMessage, type OutboxRow } from "../persistence/outbox-store";
import { PipelineStore } from "../persistence/pipeline-store";
import { AgentStore } from "../persistence/agent-store";
import type { Logger } from "../logger";
import { currentTraceContext, inSpan, type StoredTraceContext } from "../telemetry/tracing";
import type { LeaseTokens } from "./lease-tokens";
import type { Clock } from "./clock";
import { Runtimes } from "./runtimes";
import { runtimeChanges } from "../domain/execution/stored";

export type ExecutionRecord = ExecutionRow<ExecutionView>;

export interface EngineOptions {
  natsPrefix: string;
  /** How often an agent heartbeats a running job, and how long the server's lease lasts. */
  heartbeatIntervalSeconds: number;
  leaseSeconds: number;
  /** Signs each job's lease token (PROTOCOL.md 6.2). */
  leaseTokens: LeaseTokens;
}

export interface ReleaseChangeInput {
  pipelineName: string;
  sourceRevisions?: SourceRevision[] | null;
  variables?: Record<string, string> | null;
  clientRequestToken?: string | null;
  trigger: Trigger;
}

/** Something the engine committed: the relay and the live event fan-out act on it. */
export interface CommitListener {
  /** `messages`: the outbox rows the transaction wrote (the relay publishes them at once). */
  committed(messages: OutboxRow[]): void;
  /**
   * After the commit, the decision this server copy made (metrics: dispatch latency and action
   * durations, counted once across copies because only the copy that decided sees it).
   */
  decided?(decision: Decision): void;
}

/**
 * Applies the state machine's decisions. Every event is one transaction: lock the pipeline's
 * runtime row (per-pipeline serialization, across server copies), decide, store the runtime and
 * a snapshot of every changed execution, and write the effects (jobs, cancels, events) to the
 * outbox and the timers table — all or nothing.
 */
export class ExecutionEngine {
  readonly executions: ExecutionStore;
  private readonly pipelines: PipelineStore;
  private readonly runtimes: Runtimes;
  private readonly names: NatsNames;

  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly options: EngineOptions,
    private readonly listener: CommitListener,
    private readonly logger: Logger,
  ) {
    this.executions = new ExecutionStore(db);
    this.pipelines = new PipelineStore(db);
    this.runtimes = new Runtimes(this.executions);
    this.names = natsNames(options.natsPrefix);
  }

  async releaseChange(input: ReleaseChangeInput): Promise<ExecutionRecord> {
    let executionId: string = crypto.randomUUID();
    await this.withPipelineByName(input.pipelineName, async (m, pipeline, runtime): Promise<Step> => {
      if (input.clientRequestToken) {
        const existing = await this.executions.findByClientToken<ExecutionView>(
          pipeline.id,
          input.clientRequestToken,
          m,
        );
        if (existing) {
          executionId = existing.id;
          return {};
        }
      }
      return {
        event: {
          type: "StartExecution",
          executionId,
          document: pipeline.document,
          pipelineVersion: pipeline.version,
          trigger: input.trigger,
          sourceRevisions: input.sourceRevisions ?? [],
          variables: input.variables ?? {},
          rollback: null,
        },
        clientRequestToken: input.clientRequestToken ?? null,
        runtime,
      };
    });
    return this.requireExecution(executionId);
  }

  async rollbackStage(
    pipelineName: string,
    stageName: string,
    targetExecutionId: string,
    principal: Principal,
  ) {
    const executionId = crypto.randomUUID();
    await this.withPipelineByName(pipelineName, async (_m, pipeline, runtime) => {
      const target = await this.executions.findExecution<ExecutionView>(targetExecutionId);
      if (!target || target.pipelineId !== pipeline.id) {
        throw new NotFoundError(`Pipeline "${pipelineName}" has no execution ${targetExecutionId}.`);
      }
      const stage = target.view.stages.find((s) => s.stageName === stageName);
      if (!stage) throw new NotFoundError(`Execution ${targetExecutionId} has no stage "${stageName}".`);
      if (stage.status !== "Succeeded") {
        throw new DomainError(
          "CONFLICT",
          `Execution ${targetExecutionId} did not succeed in stage "${stageName}" (it is ${stage.status ?? "not started"}); roll back to one that did${lastSucceededHint(runtime, stageName)}.`,
        );
      }
      if (pipeline.document.executionMode === "PARALLEL") {
        throw new DomainError("CONFLICT", "Rollback is not available in PARALLEL mode.");
      }
      return {
        event: {
          type: "StartExecution",
          executionId,
          document: pipeline.document,
          pipelineVersion: pipeline.version,
          trigger: {
            triggerType: "ManualRollback",
            triggerDetail: `${principal.id} rolled back to ${targetExecutionId}`,
          },
          sourceRevisions: target.view.sourceRevisions,
          variables: Object.fromEntries(target.view.variables.map((v) => [v.name, v.resolvedValue])),
          rollback: {
            stageName,
            fromExecutionId: targetExecutionId,
            artifacts: target.view.artifacts,
            variables: target.view.outputVariables,
          },
        },
        runtime,
      };
    });
    return this.requireExecution(executionId);
  }

  async stopExecution(executionId: string, abandon: boolean, reason: string, principal: Principal) {
    await this.withExecution(executionId, () => ({
      type: "StopExecution",
      executionId,
      abandon,
      reason,
      by: principal.id,
    }));
    return this.requireExecution(executionId);
  }

  async retryStage(executionId: string, stageName: string, mode: RetryMode, principal: Principal) {
    await this.withExecution(executionId, () => ({
      type: "RetryStage",
      executionId,
      stageName,
      mode,
      by: principal.id,
    }));
    return this.requireExecution(executionId);
  }

  async toggleTransition(
    pipelineName: string,
    stageName: string,
    enabled: boolean,
    reason: string | null,
    principal: Principal,
  ) {
    const result = await this.withPipelineByName(pipelineName, async (_m, pipeline, runtime) => ({
      event: {
        type: "ToggleTransition",
        document: pipeline.document,
        stageName,
        enabled,
        reason,
        by: principal.id,
      },
      runtime,
    }));
    return result.runtime;
  }

  async putApprovalResult(
    actionExecutionId: string,
    approved: boolean,
    summary: string,
    principal: Principal,
  ) {
    const located = await this.executions.locateActionExecution(actionExecutionId);
    if (!located) throw new NotFoundError(`No action execution ${actionExecutionId} exists.`);
    await this.withPipeline(located.pipelineId, async (_m, _p, runtime) => ({
      event: { type: "ApprovalResult", actionExecutionId, approved, summary, by: principal.id },
      runtime,
    }));
    return this.requireExecution(located.executionId);
  }

  /** The engine's clock (tests may set it). */
  now(): Date {
    return this.clock();
  }

  get leaseSeconds(): number {
    return this.options.leaseSeconds;
  }

  /** Who holds an attempt, as the execution's snapshot says; null when no such attempt exists. */
  async attemptHolder(
    actionExecutionId: string,
    attempt: number,
  ): Promise<{ status: string; agentId: string | null } | null> {
    const found = await this.findAttempt(actionExecutionId);
    return found && found.attempt.attempt === attempt
      ? { status: found.attempt.status, agentId: found.attempt.agent?.id ?? null }
      : null;
  }

  /** An action execution (one attempt) with its execution, from the execution's snapshot. */
  async findAttempt(actionExecutionId: string): Promise<{
    execution: ExecutionRecord;
    attempt: ActionAttemptView;
    actionName: string;
    actionTypeId: ActionTypeId;
  } | null> {
    const located = await this.executions.locateActionExecution(actionExecutionId);
    if (!located) return null;
    const execution = await this.executions.findExecution<ExecutionView>(located.executionId);
    for (const stage of execution?.view.stages ?? []) {
      for (const action of stage.actions) {
        const found = action.attempts.find((a) => a.actionExecutionId === actionExecutionId);
        if (found)
          return {
            execution: execution!,
            attempt: found,
            actionName: action.actionName,
            actionTypeId: action.actionTypeId,
          };
      }
    }
    return null;
  }

  /**
   * A job heartbeat: the lease of the agent holding the attempt runs `leaseSeconds` from when the
   * heartbeat was received (stored in the results stream, `agoMs` before now), however late it is
   * applied. One UPDATE, no pipeline lock: the lease is a timer row that names its agent. False
   * when no lease of that agent exists (the accept is on its way, or the attempt ended or is
   * someone else's).
   */
  async renewLease(actionExecutionId: string, attempt: number, agentId: string, agoMs = 0): Promise<boolean> {
    const due = new Date(this.clock().getTime() - Math.max(0, agoMs) + this.options.leaseSeconds * 1000);
    return this.executions.renewTimer(timerKey(actionExecutionId, attempt, "lease"), agentId, due);
  }

  /**
   * An agent took a job or finished it: idempotent, a duplicate or late result changes nothing.
   * With `sender`, the agent that sent it is looked up by the statement that locks the pipeline:
   * when its token was revoked, `sender.whenRevoked(agentName)` is applied instead, and its name
   * is returned.
   */
  async applyAgentEvent(
    actionExecutionId: string,
    event: RuntimeEvent,
    sender?: { agentId: string; whenRevoked: (agentName: string) => RuntimeEvent },
  ): Promise<{ revokedAgent: string | null }> {
    const located = await this.executions.locateActionExecution(actionExecutionId);
    if (!located) {
      this.logger.warn(
        { actionExecutionId, type: event.type },
        "result for an unknown action execution ignored",
      );
      return { revokedAgent: null };
    }
    let revokedAgent: string | null = null;
    try {
      await this.withPipeline(
        located.pipelineId,
        async (_m, _p, runtime, agent) => {
          revokedAgent = sender && agent?.revoked ? agent.name : null;
          return { event: revokedAgent !== null ? sender!.whenRevoked(revokedAgent) : event, runtime };
        },
        sender?.agentId ?? null,
      );
      return { revokedAgent };
    } catch (error) {
      // A remembered place whose pipeline was deleted since (on any server copy): the row is gone.
      if (!(error instanceof NotFoundError)) throw error;
      this.executions.forgetActionExecution(actionExecutionId);
      this.logger.warn(
        { actionExecutionId, type: event.type },
        "result for an action execution of a deleted pipeline ignored",
      );
      return { revokedAgent: null };
    }
  }

  /**
   * Fires the timers that are due. Each timer is taken (deleted) in the same transaction as the
   * event it causes, so a crash or a failed event leaves it to fire again; several server copies
   * share the work, the row lock deciding who takes each one.
   *
   * A lease (or an action's timeout) fires only when due by `leasesDueBy`: the time up to which
   * every result the agents stored has been applied (null: not known, none fires). A heartbeat or
   * complete that reached NATS before the lease ran out therefore always wins over it, however long
   * the server could not read NATS or write to PostgreSQL.
   */
  async fireDueTimers(leasesDueBy: Date | null, limit = 50): Promise<number> {
    const now = this.clock();
    const leaseBound = leasesDueBy && leasesDueBy < now ? leasesDueBy : now;
    let fired = 0;
    for (const timer of await this.executions.dueTimers(now, leasesDueBy ? leaseBound : null, limit)) {
      const judgedOnResults = timer.key.startsWith("lease:") || timer.key.startsWith("action-timeout:");
      const dueBy = judgedOnResults ? leaseBound : now;
      try {
        await this.withPipeline(timer.pipelineId, async (m, _p, runtime): Promise<Step> => {
          if (!(await this.executions.takeTimer(m, timer.key, dueBy))) return {};
          fired++;
          const detail = timer.agentId ? await this.revokedAgentNote(m, timer.agentId) : null;
          return { event: { type: "TimerFired", timerKey: timer.key, detail }, runtime };
        });
      } catch (error) {
        this.logger.error({ err: error, timer: timer.key, parsed: parseTimerKey(timer.key) }, "timer failed");
      }
    }
    return fired;
  }

  /** For a lease that ended because the agent's token was revoked, the sentence that says so. */
  private async revokedAgentNote(m: EntityManager, agentId: string): Promise<string | null> {
    const name = await new AgentStore(this.db).revokedName(agentId, m);
    return name !== null ? `The token of agent ${name} was revoked; the attempt was stopped.` : null;
  }

  async requireExecution(executionId: string): Promise<ExecutionRecord> {
    const row = await this.executions.findExecution<ExecutionView>(executionId);
    if (!row) throw new NotFoundError(`No pipeline execution ${executionId} exists.`);
    return row;
  }

  /** The pipeline's runtime as last committed; null before its first event. Read only: never change it. */
  async runtimeOf(pipelineId: string): Promise<PipelineRuntime | null> {
    return this.runtimes.read(pipelineId);
  }

  private async withExecution(executionId: string, event: () => RuntimeEvent): Promise<void> {
    const row = await this.requireExecution(executionId);
    await this.withPipeline(row.pipelineId, async (_m, _p, runtime) => ({ event: event(), runtime }));
  }

  private async withPipelineByName<T extends Step>(
    name: string,
    step: (m: EntityManager, pipeline: PipelineEntity, runtime: PipelineRuntime) => Promise<T>,
  ) {
    const pipeline = await this.pipelines.findByName(name);
    if (!pipeline) throw new NotFoundError(`No pipeline is named "${name}".`);
    return this.withPipeline(pipeline.id, step);
  }

  /** The one transaction per event (with the audit row of the mutation that asked for it, if one did). */
  private async withPipeline<T extends Step>(
    pipelineId: string,
    step: (
      m: EntityManager,
      pipeline: PipelineEntity,
      runtime: PipelineRuntime,
      agent: LockedAgent | null,
    ) => Promise<T>,
    agentId: string | null = null,
  ): Promise<T & { runtime: PipelineRuntime }> {
    // A span per transaction (telemetry/tracing.ts): the relay publishes what it wrote inside it,
    // so a job's message carries this span's trace context to its agent.
    return inSpan("engine transaction", { "sluice.pipeline.id": pipelineId }, async (span) => {
      let decided = null as Decision | null;
      let written: OutboxRow[] = [];
      let stored: { revision: number; runtime: PipelineRuntime } | null = null;
      const result = await auditedTransaction(this.db, async (m) => {
        decided = null;
        written = [];
        stored = null;
        const { pipeline, runtime, revision, agent } = await this.lockPipeline(m, pipelineId, agentId);
        const planned = await step(m, pipeline, runtime, agent);
        span.setAttribute("sluice.pipeline.name", pipeline.name);
        if (!planned.event) return { ...planned, runtime };
        const now = this.clock();
        const decision = decide(runtime, planned.event, {
          now: now.toISOString(),
          newId: () => crypto.randomUUID(),
        });
        span.updateName(`engine ${planned.event.type}`);
        span.setAttribute("sluice.event.type", planned.event.type);
        // An event that changes nothing (a repeated or late result) writes nothing.
        if (decision.runtime === runtime) return { ...planned, runtime };
        const executions = decision.changedExecutions;
        if (executions.length > 0)
          span.setAttribute(
            "sluice.execution.id",
            executions.length === 1 ? executions[0]! : [...executions],
          );
        written = await this.persist(m, pipeline, runtime, decision, now, planned.clientRequestToken ?? null);
        decided = decision;
        stored = { revision: revision + 1, runtime: decision.runtime };
        return { ...planned, runtime: decision.runtime };
      });
      span.setAttribute("sluice.messages", written.length);
      const kept = stored as { revision: number; runtime: PipelineRuntime } | null;
      if (kept) this.runtimes.committed(pipelineId, kept.revision, kept.runtime);
      this.listener.committed(written);
      if (decided) this.listener.decided?.(decided);
      return result;
    });
  }

  /** The pipeline and its runtime, locked: one statement, two on the pipeline's first event. */
  private async lockPipeline(
    m: EntityManager,
    pipelineId: string,
    agentId: string | null,
  ): Promise<{
    pipeline: PipelineEntity;
    runtime: PipelineRuntime;
    revision: number;
    agent: LockedAgent | null;
  }> {
    const locked = await this.runtimes.lock(
      m,
      pipelineId,
      () => this.pipelines.findById(pipelineId, m),
      agentId,
    );
    if (!locked) throw new NotFoundError(`The pipeline ${pipelineId} no longer exists.`);
    return locked;
  }

  /** Writes the decision in one statement (ExecutionStore.writeDecision). */
  private async persist(
    m: EntityManager,
    pipeline: PipelineEntity,
    before: PipelineRuntime,
    decision: Decision,
    now: Date,
    clientRequestToken: string | null,
  ): Promise<OutboxRow[]> {
    const at = now.toISOString();
    const executions: Parameters<ExecutionStore["writeDecision"]>[1]["executions"] = [];
    const actionExecutions: Array<{ id: string; executionId: string }> = [];
    const { coordination, records, forgotten } = runtimeChanges(before, decision);
    for (const executionId of decision.changedExecutions) {
      const view = executionView(decision.runtime, executionId);
      if (!view) continue;
      executions.push({
        runtime: records.get(executionId) ?? null,
        id: view.executionId,
        pipelineVersion: view.pipelineVersion,
        status: view.status,
        triggerType: view.trigger.triggerType,
        startTime: new Date(view.startTime),
        lastUpdateTime: new Date(view.lastUpdateTime),
        sequence: view.sequence,
        view,
      });
      // Attempts this decision started (stamped with its time) are new: only they need recording.
      for (const stage of view.stages)
        for (const action of stage.actions)
          for (const attempt of action.attempts)
            if (attempt.queuedAt === at)
              actionExecutions.push({ id: attempt.actionExecutionId, executionId: view.executionId });
    }
    const { messages, events, timers } = this.effectsToWrite(decision.effects, decision.runtime, now);
    return this.executions.writeDecision(m, {
      pipelineId: pipeline.id,
      coordination,
      forgotten,
      now,
      clientRequestToken,
      executions,
      actionExecutions,
      timers,
      events,
      messages,
    });
  }

  /** The decision's effects as rows: messages for the outbox, history, and each timer's last effect. */
  private effectsToWrite(effects: Effect[], runtime: PipelineRuntime, now: Date) {
    const messages: OutboxMessage[] = [];
    const events: Array<{ executionId: string; sequence: number; event: unknown }> = [];
    // One effect per timer key, the last one: a later cancel undoes an earlier schedule and back.
    const timers = new Map<string, { dueAt: Date; agentId: string | null } | null>();
    // This transaction's trace context goes with its jobs: the relay loop, when it is the one that
    // publishes them, puts it in their headers as the direct path does (docs/tracing.md).
    const trace: StoredTraceContext | null = effects.some((e) => e.type === "Dispatch")
      ? currentTraceContext()
      : null;
    for (const effect of effects) {
      switch (effect.type) {
        case "Dispatch":
          messages.push(this.jobMessage(effect, runtime, now, trace));
          break;
        case "Cancel": {
          const payload = { jobId: effect.actionExecutionId, attempt: effect.attempt, reason: effect.reason };
          // The fast path first: the agent holding the job hears it at once (core NATS).
          if (effect.agentId !== null) {
            messages.push(
              outboxMessage("cancel", {
                msgId: `${msgIds.cancel(effect.actionExecutionId, effect.attempt)}:${effect.agentId}`,
                subject: this.names.subjects.agentCancel(effect.agentId),
                payload,
                transport: "core",
              }),
            );
          }
          if (effect.durable) {
            messages.push(
              outboxMessage("cancel", {
                msgId: msgIds.cancel(effect.actionExecutionId, effect.attempt),
                subject: this.names.subjects.cancel(effect.actionExecutionId),
                payload,
              }),
            );
          }
          break;
        }
        case "ScheduleTimer":
          timers.delete(effect.timerKey);
          timers.set(effect.timerKey, { dueAt: new Date(effect.at), agentId: effect.agentId ?? null });
          break;
        case "CancelTimer":
          timers.delete(effect.timerKey);
          timers.set(effect.timerKey, null);
          break;
        case "Event": {
          const { event } = effect;
          if (event.executionId !== null && event.sequence !== null) {
            events.push({ executionId: event.executionId, sequence: event.sequence, event });
          }
          messages.push(
            outboxMessage("pipelineEvent", {
              msgId:
                event.executionId !== null && event.sequence !== null
                  ? msgIds.pipelineEvent(event.executionId, event.sequence)
                  : `event:${crypto.randomUUID()}`,
              subject: this.names.subjects.event(event.pipelineName),
              payload: event,
            }),
          );
          break;
        }
      }
    }
    const schedule: Array<{ key: string; dueAt: Date; agentId: string | null }> = [];
    const cancel: string[] = [];
    for (const [key, timer] of timers) {
      if (timer === null) cancel.push(key);
      else schedule.push({ key, ...timer });
    }
    return { messages, events, timers: { schedule, cancel } };
  }

  private jobMessage(
    effect: DispatchEffect,
    runtime: PipelineRuntime,
    now: Date,
    trace: StoredTraceContext | null,
  ): OutboxMessage {
    const execution = runtime.executions[effect.executionId];
    const pool = effect.region ?? "default";
    return outboxMessage("job", {
      ...(trace ?? {}),
      msgId: msgIds.job(effect.actionExecutionId, effect.attempt),
      subject: this.names.subjects.job(pool, effect.actionTypeId),
      payload: {
        protocolVersion: PROTOCOL_VERSION,
        jobId: effect.actionExecutionId,
        attempt: effect.attempt,
        executionId: effect.executionId,
        pipelineName: effect.pipelineName,
        stageName: effect.stageName,
        actionName: effect.actionName,
        actionTypeId: effect.actionTypeId,
        configuration: effect.configuration,
        inputArtifacts: effect.inputArtifacts,
        outputArtifacts: effect.outputArtifacts,
        outputArtifactKeyPrefix: outputArtifactKeyPrefix(
          effect.executionId,
          effect.actionExecutionId,
          effect.attempt,
        ),
        leaseToken: this.options.leaseTokens.issue(effect.actionExecutionId, effect.attempt),
        pool,
        timeoutInMinutes: effect.timeoutInMinutes,
        ...(effect.sourceRevision ? { sourceRevision: withoutNulls(effect.sourceRevision) } : {}),
        context: { pipelineExecutionId: effect.executionId, variables: execution?.variables ?? {} },
        dispatchedAt: now.toISOString(),
        leaseSeconds: this.options.leaseSeconds,
        heartbeatIntervalSeconds: this.options.heartbeatIntervalSeconds,
      },
    });
  }
}

interface Step {
  event?: RuntimeEvent;
  clientRequestToken?: string | null;
  runtime?: PipelineRuntime;
}

/** The object without its null fields (the protocol leaves an absent optional field out). */
function withoutNulls<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}

function lastSucceededHint(runtime: PipelineRuntime, stageName: string): string {
  const last = lastSucceededExecution(runtime, stageName);
  return last ? ` (the last was ${last})` : "";
}
