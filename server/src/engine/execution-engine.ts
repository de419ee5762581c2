import crypto from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import {
  msgIds,
  natsNames,
  outputArtifactKeyPrefix,
  PROTOCOL_VERSION,
  type NatsNames,
} from "@sluice/protocol";
import { actingAccount, DEFAULT_ACCOUNT, type Principal } from "../auth/principal";
import { DomainError, NotFoundError } from "../domain/errors";
import type { ActionTypeId } from "../domain/pipeline/document";
import {
  decideInTurn,
  mergeDecisions,
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
  /** The pipeline's account (the caller's acting account, or the default for webhooks of it). */
  account: string;
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
  decided?(decision: Decision, account: string): void;
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
    await this.withPipelineByName(
      input.account,
      input.pipelineName,
      async (m, pipeline, runtime): Promise<Step> => {
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
      },
    );
    return this.requireExecution(executionId);
  }

  async rollbackStage(
    pipelineName: string,
    stageName: string,
    targetExecutionId: string,
    principal: Principal,
  ) {
    const executionId = crypto.randomUUID();
    await this.withPipelineByName(actingAccount(principal), pipelineName, async (_m, pipeline, runtime) => {
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
    const result = await this.withPipelineByName(
      actingAccount(principal),
      pipelineName,
      async (_m, pipeline, runtime) => ({
        event: {
          type: "ToggleTransition",
          document: pipeline.document,
          stageName,
          enabled,
          reason,
          by: principal.id,
        },
        runtime,
      }),
    );
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
   * is returned; when it is an agent of another account than the pipeline's, nothing is applied
   * and its name is returned (it must not run the job).
   */
  async applyAgentEvent(
    actionExecutionId: string,
    event: RuntimeEvent,
    sender?: AgentEventSender,
  ): Promise<{ revokedAgent: string | null }> {
    const [outcome] = await this.applyAgentEvents([{ actionExecutionId, event, sender }]);
    if ("error" in outcome!) throw outcome.error;
    return outcome!;
  }

  /**
   * Results that arrived together (group commit): the events of each pipeline are decided in turn
   * in one transaction (one lock, one write, one commit), each pipeline's in the order given, and
   * different pipelines' transactions run side by side. Each result's outcome comes back in the
   * order given: its revoked sender's name (see applyAgentEvent), or the error that rolled back its
   * pipeline's transaction (the caller applies those again one by one).
   */
  async applyAgentEvents(
    items: readonly AgentEventItem[],
  ): Promise<Array<{ revokedAgent: string | null } | { error: unknown }>> {
    const outcomes: Array<{ revokedAgent: string | null } | { error: unknown }> = items.map(() => ({
      revokedAgent: null,
    }));
    const groups = new Map<string, number[]>();
    await Promise.all(
      items.map(async (item, index) => {
        try {
          const located = await this.executions.locateActionExecution(item.actionExecutionId);
          if (!located) {
            this.logger.warn(
              { actionExecutionId: item.actionExecutionId, type: item.event.type },
              "result for an unknown action execution ignored",
            );
            return;
          }
          groups.set(located.pipelineId, [...(groups.get(located.pipelineId) ?? []), index]);
        } catch (error) {
          outcomes[index] = { error };
        }
      }),
    );
    await Promise.all(
      [...groups].map(async ([pipelineId, unsorted]) => {
        const indexes = unsorted.sort((a, b) => a - b);
        const group = indexes.map((i) => items[i]!);
        const agentIds = [...new Set(group.flatMap((item) => (item.sender ? [item.sender.agentId] : [])))];
        let revoked: Array<string | null> = [];
        try {
          await this.withPipeline(
            pipelineId,
            async (_m, pipeline, runtime, agents) => {
              const events: RuntimeEvent[] = [];
              revoked = group.map((item) => {
                const agent = item.sender ? agents.get(item.sender.agentId) : undefined;
                // An agent of another account never gets this pipeline's jobs (its pool is its
                // account's); were its result to arrive anyway (NATS without authentication
                // enforces no pool), it changes nothing, and the agent is told to stop as a
                // revoked one is.
                if (item.sender && agent && agent.account !== pipeline.account) {
                  this.logger.warn(
                    {
                      actionExecutionId: item.actionExecutionId,
                      agentId: item.sender.agentId,
                      type: item.event.type,
                    },
                    "result of another account's agent ignored",
                  );
                  return agent.name;
                }
                const name = agent?.revoked ? agent.name : null;
                events.push(name !== null ? item.sender!.whenRevoked(name) : item.event);
                return name;
              });
              return { events, runtime };
            },
            agentIds,
          );
          indexes.forEach((index, i) => (outcomes[index] = { revokedAgent: revoked[i] ?? null }));
        } catch (error) {
          if (!(error instanceof NotFoundError)) {
            for (const index of indexes) outcomes[index] = { error };
            return;
          }
          // A remembered place whose pipeline was deleted since (on any server copy): the row is gone.
          for (const item of group) {
            this.executions.forgetActionExecution(item.actionExecutionId);
            this.logger.warn(
              { actionExecutionId: item.actionExecutionId, type: item.event.type },
              "result for an action execution of a deleted pipeline ignored",
            );
          }
        }
      }),
    );
    return outcomes;
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
    account: string,
    name: string,
    step: (m: EntityManager, pipeline: PipelineEntity, runtime: PipelineRuntime) => Promise<T>,
  ) {
    const pipeline = await this.pipelines.findByName(account, name);
    if (!pipeline) throw new NotFoundError(`No pipeline is named "${name}".`);
    return this.withPipeline(pipeline.id, step);
  }

  /**
   * The one transaction per event, or per group of results (with the audit row of the mutation
   * that asked for it, if one did). `agentIds`: the senders the lock statement looks up.
   */
  private async withPipeline<T extends Step>(
    pipelineId: string,
    step: (
      m: EntityManager,
      pipeline: PipelineEntity,
      runtime: PipelineRuntime,
      agents: ReadonlyMap<string, LockedAgent>,
    ) => Promise<T>,
    agentIds: readonly string[] = [],
  ): Promise<T & { runtime: PipelineRuntime }> {
    // A span per transaction (telemetry/tracing.ts): the relay publishes what it wrote inside it,
    // so a job's message carries this span's trace context to its agent.
    return inSpan("engine transaction", { "sluice.pipeline.id": pipelineId }, async (span) => {
      let decided = null as Decision[] | null;
      let decidedAccount = DEFAULT_ACCOUNT;
      let written: OutboxRow[] = [];
      let stored: { revision: number; runtime: PipelineRuntime } | null = null;
      const result = await auditedTransaction(this.db, async (m) => {
        decided = null;
        written = [];
        stored = null;
        const { pipeline, runtime, revision, agents } = await this.lockPipeline(m, pipelineId, agentIds);
        const planned = await step(m, pipeline, runtime, agents);
        span.setAttribute("sluice.pipeline.name", pipeline.name);
        const events = planned.events ?? (planned.event ? [planned.event] : []);
        if (events.length === 0) return { ...planned, runtime };
        const now = this.clock();
        const steps = decideInTurn(runtime, events, {
          now: now.toISOString(),
          newId: () => crypto.randomUUID(),
        });
        const types = [...new Set(events.map((e) => e.type))];
        span.updateName(events.length === 1 ? `engine ${types[0]}` : `engine ${events.length} events`);
        span.setAttribute("sluice.event.type", types.length === 1 ? types[0]! : types);
        if (events.length > 1) span.setAttribute("sluice.events", events.length);
        // An event that changes nothing (a repeated or late result) writes nothing.
        if (steps.length === 0) return { ...planned, runtime };
        const decision = steps.length === 1 ? steps[0]! : mergeDecisions(steps);
        const executions = decision.changedExecutions;
        if (executions.length > 0)
          span.setAttribute(
            "sluice.execution.id",
            executions.length === 1 ? executions[0]! : [...executions],
          );
        written = await this.persist(m, pipeline, runtime, decision, now, planned.clientRequestToken ?? null);
        decided = steps;
        decidedAccount = pipeline.account;
        stored = { revision: revision + 1, runtime: decision.runtime };
        return { ...planned, runtime: decision.runtime };
      });
      span.setAttribute("sluice.messages", written.length);
      const kept = stored as { revision: number; runtime: PipelineRuntime } | null;
      if (kept) this.runtimes.committed(pipelineId, kept.revision, kept.runtime);
      this.listener.committed(written);
      for (const decision of decided ?? []) this.listener.decided?.(decision, decidedAccount);
      return result;
    });
  }

  /** The pipeline and its runtime, locked: one statement, two on the pipeline's first event. */
  private async lockPipeline(
    m: EntityManager,
    pipelineId: string,
    agentIds: readonly string[],
  ): Promise<{
    pipeline: PipelineEntity;
    runtime: PipelineRuntime;
    revision: number;
    agents: ReadonlyMap<string, LockedAgent>;
  }> {
    const locked = await this.runtimes.lock(
      m,
      pipelineId,
      () => this.pipelines.findById(pipelineId, m),
      agentIds,
    );
    if (!locked) throw new NotFoundError(`The pipeline ${pipelineId} no longer exists.`);
    return locked;
  }

  /** Writes the decision in one statement (ExecutionStore.writeDecision). */
  private async persist(
    m: EntityManager,
    pipeline: PipelineEntity,
    before: PipelineRuntime,
    decision: Decision & { viewedIn?: Map<string, PipelineRuntime> },
    now: Date,
    clientRequestToken: string | null,
  ): Promise<OutboxRow[]> {
    const { viewedIn } = decision;
    const at = now.toISOString();
    const executions: Parameters<ExecutionStore["writeDecision"]>[1]["executions"] = [];
    const actionExecutions: Array<{ id: string; executionId: string }> = [];
    const { coordination, records, forgotten } = runtimeChanges(before, decision);
    for (const executionId of decision.changedExecutions) {
      // Merged decisions: an execution a later one let go of is viewed where it was last.
      const view = executionView(viewedIn?.get(executionId) ?? decision.runtime, executionId);
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
    const { messages, events, timers } = this.effectsToWrite(
      pipeline.account,
      decision.effects,
      decision.runtime,
      now,
    );
    // A statement changes a row once: an execution written here (let go of by a later one of merged
    // decisions) gets its cleared record from this write, not from the clearing of the rest.
    const written = new Set(executions.map((e) => e.id));
    return this.executions.writeDecision(m, {
      pipelineId: pipeline.id,
      coordination,
      forgotten: forgotten.filter((id) => !written.has(id)),
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
  private effectsToWrite(account: string, effects: Effect[], runtime: PipelineRuntime, now: Date) {
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
          messages.push(this.jobMessage(account, effect, runtime, now, trace));
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
          // Subscribers and notifications see which account's pipeline it is.
          const event = account === DEFAULT_ACCOUNT ? effect.event : { ...effect.event, account };
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
    account: string,
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
      // The pool of the pipeline's account: only that account's agents may pull from it.
      subject: this.names.subjects.job(pool, effect.actionTypeId, account),
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

/** Who sent an agent's result, and the event to apply instead when its token was revoked. */
export interface AgentEventSender {
  agentId: string;
  whenRevoked: (agentName: string) => RuntimeEvent;
}

/** One agent result for applyAgentEvents. */
export interface AgentEventItem {
  actionExecutionId: string;
  event: RuntimeEvent;
  sender?: AgentEventSender;
}

interface Step {
  event?: RuntimeEvent;
  /** Several events decided in turn and written together (group commit); `event` is one. */
  events?: RuntimeEvent[];
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
