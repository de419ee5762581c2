/**
 * A simulated world around decide for the property tests: an engine that keeps the runtime and a
 * snapshot of every execution, agents that answer Dispatch effects (in any order, twice, late),
 * people who approve, toggle, stop and retry, and a clock that fires due timers. It checks the
 * machine's invariants after every decision (see property.test.ts).
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { DomainError } from "../../errors";
import type { PipelineDocument } from "../../pipeline/document";
import { decide, emptyRuntime, executionView, mergeDecisions } from "../index";
import { decodeCoordination, decodeExecution, joinRuntime, runtimeChanges } from "../stored";
import type {
  ActionCompletedEvent,
  Decision,
  DispatchEffect,
  ExecutionView,
  PipelineEvent,
  PipelineRuntime,
  RuntimeEvent,
} from "../index";

/** What the arbitrary's `#{Namespace.X}` references ask for: every agent reports all of them. */
const OUTPUT_VARIABLES = {
  CommitId: "c0ffee",
  BranchName: "main",
  Version: "1.2.3",
  Url: "https://x.example",
};

const FINAL: readonly string[] = ["Stopped", "Succeeded", "Superseded", "Failed", "Cancelled"];

export type Command =
  | { kind: "start" }
  | { kind: "take"; pick: number }
  | { kind: "result"; pick: number; success: boolean }
  | { kind: "duplicate"; pick: number }
  | { kind: "approve"; pick: number; approved: boolean }
  | { kind: "toggle"; pick: number; enabled: boolean }
  | { kind: "stop"; pick: number; abandon: boolean }
  | { kind: "retry"; pick: number; all: boolean }
  | { kind: "timer"; pick: number };

const anyIndex = fc.nat({ max: 1000 });
/** One thing the world does; picks choose among what is possible at that moment. */
export const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "start" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("take" as const), pick: anyIndex }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("result" as const),
      pick: anyIndex,
      success: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), pick: anyIndex }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("approve" as const), pick: anyIndex, approved: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("toggle" as const), pick: anyIndex, enabled: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("stop" as const), pick: anyIndex, abandon: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("retry" as const), pick: anyIndex, all: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("timer" as const), pick: anyIndex }) },
);

export class Simulation {
  runtime: PipelineRuntime;
  readonly snapshots = new Map<string, ExecutionView>();
  /** Dispatched attempts no result was sent for yet, by `id:attempt`. */
  readonly outstanding = new Map<string, DispatchEffect>();
  readonly sentResults: ActionCompletedEvent[] = [];
  readonly timers = new Map<string, string>();
  /** Start order of every execution started. */
  readonly started: string[] = [];
  /** Per stage, the executions that entered it (STAGE_STARTED), in order. */
  readonly entries = new Map<string, string[]>();
  readonly lastSequence = new Map<string, number>();
  /** Every event type seen, so a test can tell the run was not vacuous. */
  readonly seen = new Set<string>();
  private clock = Date.parse("2025-01-01T00:00:00.000Z");
  private ids = 0;
  decisions = 0;

  /**
   * With `batches`, decisions are stored as the engine's group commit stores them: this many
   * (cycling through the sizes) merged into one write (mergeDecisions), checked against what
   * storing each in turn gives.
   */
  constructor(
    readonly document: PipelineDocument,
    private readonly batches: readonly number[] = [],
  ) {
    this.runtime = emptyRuntime(document.name);
    this.storedRuntime = this.runtime;
  }

  /** Decisions not stored yet (group commit), made since `storedRuntime`. */
  private pending: Decision[] = [];
  private storedRuntime: PipelineRuntime;
  private batchIndex = 0;

  /** Stores the pending decisions as one write and checks the views it stores. */
  flush(): void {
    if (this.pending.length === 0) return;
    const merged = mergeDecisions(this.pending);
    this.pending = [];
    this.runtime = this.storeAndReadBack(this.storedRuntime, merged);
    this.storedRuntime = this.runtime;
    for (const id of merged.changedExecutions) {
      // What the engine stores as the execution's view: it must be what its last decision showed.
      const view = executionView(merged.viewedIn.get(id)!, id);
      assert.deepStrictEqual(
        view,
        this.snapshots.get(id),
        `the merged write's view of ${id} is not its last one`,
      );
    }
  }

  // ── Commands ─────────────────────────────────────────────────────────────────────────────────

  run(command: Command): void {
    const event = this.eventFor(command);
    if (event !== undefined) this.send(event);
  }

  private eventFor(command: Command): RuntimeEvent | undefined {
    switch (command.kind) {
      case "start": {
        const executionId = `e${this.started.length + 1}`;
        this.started.push(executionId);
        return {
          type: "StartExecution",
          executionId,
          document: this.document,
          pipelineVersion: 1,
          trigger: { triggerType: "Webhook", triggerDetail: null },
          sourceRevisions: [],
          variables: {},
        };
      }
      case "take": {
        const dispatch = pick([...this.outstanding.values()], command.pick);
        return (
          dispatch && {
            type: "ActionStarted",
            actionExecutionId: dispatch.actionExecutionId,
            attempt: dispatch.attempt,
            agent: { id: "a1", name: "agent" },
          }
        );
      }
      case "result": {
        const dispatch = pick([...this.outstanding.values()], command.pick);
        return dispatch && this.resultFor(dispatch, command.success);
      }
      case "duplicate":
        return pick(this.sentResults, command.pick);
      case "approve": {
        const pending = this.pendingApprovals();
        const id = pick(pending, command.pick);
        return id === undefined
          ? undefined
          : {
              type: "ApprovalResult",
              actionExecutionId: id,
              approved: command.approved,
              summary: "ok",
              by: "bob",
            };
      }
      case "toggle": {
        const stage = pick(this.document.stages, command.pick)!;
        return {
          type: "ToggleTransition",
          document: this.document,
          stageName: stage.name,
          enabled: command.enabled,
          reason: "freeze",
          by: "carol",
        };
      }
      case "stop": {
        const executionId = pick(this.started, command.pick);
        return executionId === undefined
          ? undefined
          : { type: "StopExecution", executionId, abandon: command.abandon, reason: "stop", by: "alice" };
      }
      case "retry": {
        const candidates = [...this.snapshots.values()].flatMap((view) =>
          view.stages
            .filter((stage) => stage.status === "Failed" || stage.status === "Stopped")
            .map((stage) => [view.executionId, stage.stageName] as const),
        );
        const target = pick(candidates, command.pick);
        return (
          target && {
            type: "RetryStage",
            executionId: target[0],
            stageName: target[1],
            mode: command.all ? "ALL_ACTIONS" : "FAILED_ACTIONS",
            by: "alice",
          }
        );
      }
      case "timer": {
        const timer = pick([...this.timers.entries()], command.pick);
        if (timer === undefined) return undefined;
        this.clock = Math.max(this.clock, Date.parse(timer[1]));
        this.timers.delete(timer[0]); // claimed by the engine as it fires
        return { type: "TimerFired", timerKey: timer[0] };
      }
    }
  }

  private resultFor(dispatch: DispatchEffect, success: boolean): ActionCompletedEvent {
    return {
      type: "ActionCompleted",
      actionExecutionId: dispatch.actionExecutionId,
      attempt: dispatch.attempt,
      outcome: success ? "Succeeded" : "Failed",
      summary: success ? "done" : "exit 1",
      outputVariables: OUTPUT_VARIABLES,
      outputArtifacts: dispatch.outputArtifacts.map(({ name }) => ({
        name,
        objectKey: `${dispatch.executionId}/${dispatch.actionExecutionId}/${dispatch.attempt}/${name}`,
        size: 1,
        sha256: "0".repeat(64),
      })),
    };
  }

  pendingApprovals(): string[] {
    return [...this.snapshots.values()].flatMap((view) =>
      view.stages.flatMap((stage) =>
        stage.actions
          .filter((a) => a.approvalPending && a.actionExecutionId)
          .map((a) => a.actionExecutionId!),
      ),
    );
  }

  /** Every transition enabled, every outstanding attempt answered, every approval approved. */
  drain(): void {
    for (const stage of this.document.stages.slice(1))
      this.send({
        type: "ToggleTransition",
        document: this.document,
        stageName: stage.name,
        enabled: true,
        by: "carol",
      });
    for (let round = 0; round < 10_000; round++) {
      const dispatch = this.outstanding.values().next().value;
      if (dispatch !== undefined) {
        this.send(this.resultFor(dispatch, true));
        continue;
      }
      const approval = this.pendingApprovals()[0];
      if (approval === undefined) return this.flush();
      this.send({
        type: "ApprovalResult",
        actionExecutionId: approval,
        approved: true,
        summary: "ok",
        by: "bob",
      });
    }
    throw new Error("the simulation did not drain");
  }

  // ── The engine's side ────────────────────────────────────────────────────────────────────────

  send(event: RuntimeEvent): void {
    this.clock += 60_000;
    const before = JSON.stringify(this.runtime);
    let decision: Decision;
    try {
      decision = decide(this.runtime, event, {
        now: new Date(this.clock).toISOString(),
        newId: () => `ae${++this.ids}`,
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      assert.ok(["CONFLICT", "BAD_USER_INPUT", "NOT_FOUND"].includes(error.code), error.message);
      assert.equal(JSON.stringify(this.runtime), before);
      return;
    }
    assert.equal(JSON.stringify(this.runtime), before, "decide changed its input");
    this.decisions += 1;
    if (event.type === "ActionCompleted") {
      this.outstanding.delete(`${event.actionExecutionId}:${event.attempt}`);
      this.sentResults.push(event);
    }
    if (this.batches.length === 0) this.runtime = this.storeAndReadBack(this.runtime, decision);
    else {
      this.pending.push(decision);
      this.runtime = decision.runtime;
    }
    for (const id of decision.changedExecutions) this.snapshots.set(id, executionView(decision.runtime, id)!);
    if (
      this.batches.length > 0 &&
      this.pending.length >= this.batches[this.batchIndex % this.batches.length]!
    ) {
      this.batchIndex += 1;
      this.flush();
    }
    this.record(decision);
    this.checkInvariants(decision);
  }

  /** The stored records as the engine keeps them (stored.ts), as JSON text. */
  private readonly stored = { coordination: "", records: new Map<string, string>() };

  /**
   * Writes what the engine writes for the decision (only the changed executions' records) and
   * reads the runtime back from the records, as a server copy whose kept runtime is stale does:
   * it must be the decision's runtime exactly.
   */
  private storeAndReadBack(before: PipelineRuntime, decision: Decision): PipelineRuntime {
    if (decision.runtime === before) return before;
    const { coordination, records, forgotten } = runtimeChanges(before, decision);
    this.stored.coordination = JSON.stringify(coordination);
    for (const [id, record] of records) this.stored.records.set(id, JSON.stringify(record));
    for (const id of forgotten) this.stored.records.delete(id);
    const readBack = joinRuntime(
      decodeCoordination(JSON.parse(this.stored.coordination)),
      [...this.stored.records.values()].map((text) => decodeExecution(JSON.parse(text))),
      () => this.document,
    );
    // Compared as JSON (what is stored): the state machine's maps need not share a prototype.
    assert.deepStrictEqual(
      JSON.parse(JSON.stringify(readBack)),
      JSON.parse(JSON.stringify(decision.runtime)),
      "the stored records do not give the runtime back",
    );
    return readBack;
  }

  private record(decision: Decision): void {
    for (const effect of decision.effects) {
      if (effect.type === "Dispatch")
        this.outstanding.set(`${effect.actionExecutionId}:${effect.attempt}`, effect);
      if (effect.type === "ScheduleTimer") this.timers.set(effect.timerKey, effect.at);
      if (effect.type === "CancelTimer")
        assert.ok(this.timers.delete(effect.timerKey), `no timer ${effect.timerKey}`);
    }
  }

  events(decision: Decision): PipelineEvent[] {
    return decision.effects.flatMap((effect) => (effect.type === "Event" ? [effect.event] : []));
  }

  // ── Invariants ───────────────────────────────────────────────────────────────────────────────

  private checkInvariants(decision: Decision): void {
    const events = this.events(decision);
    for (const event of events) this.seen.add(event.type);
    this.checkSequences(decision, events);
    this.checkLocks();
    this.checkRunOrders(decision, events);
    this.checkEntries(events);
    this.checkNobodyWaitsSilently();
    assertPlainJson(decision.runtime, "runtime");
  }

  /** Per execution, each event's sequence is the previous one + 1; changed = has events. */
  private checkSequences(decision: Decision, events: PipelineEvent[]): void {
    for (const event of events) {
      if (event.executionId === null) {
        assert.equal(event.sequence, null);
        continue;
      }
      const previous = this.lastSequence.get(event.executionId) ?? 0;
      assert.equal(event.sequence, previous + 1, `sequence of ${event.executionId} skips`);
      this.lastSequence.set(event.executionId, previous + 1);
    }
    const withEvents = new Set(events.flatMap((e) => (e.executionId === null ? [] : [e.executionId])));
    assert.deepEqual(new Set(decision.changedExecutions), withEvents);
    for (const id of decision.changedExecutions)
      assert.equal(this.snapshots.get(id)!.sequence, this.lastSequence.get(id));
  }

  /** SUPERSEDED and QUEUED: no stage ever holds two executions. */
  private checkLocks(): void {
    if (this.document.executionMode === "PARALLEL") return;
    const holders = new Map<string, string[]>();
    for (const view of this.snapshots.values()) {
      if (view.currentStage?.entered) {
        const list = holders.get(view.currentStage.stageName) ?? [];
        list.push(view.executionId);
        holders.set(view.currentStage.stageName, list);
      }
    }
    for (const [stageName, list] of holders)
      assert.ok(list.length <= 1, `${stageName} holds ${list.join(", ")}`);
  }

  /** An action starts (Dispatch, approval) only when every lower runOrder of its stage succeeded. */
  private checkRunOrders(decision: Decision, events: PipelineEvent[]): void {
    const starts = [
      ...decision.effects.flatMap((e) =>
        e.type === "Dispatch" ? [[e.executionId, e.stageName, e.actionName]] : [],
      ),
      ...events
        .filter((e) => e.type === "APPROVAL_NEEDED")
        .map((e) => [e.executionId!, e.stageName!, e.actionName!]),
    ];
    for (const [executionId, stageName, actionName] of starts) {
      const stage = this.snapshots.get(executionId!)!.stages.find((s) => s.stageName === stageName)!;
      const runOrder = stage.actions.find((a) => a.actionName === actionName)!.runOrder;
      for (const other of stage.actions.filter((a) => a.runOrder < runOrder))
        assert.equal(other.status, "Succeeded", `${actionName} started before ${other.actionName} succeeded`);
    }
  }

  /** No entry past a disabled transition; in SUPERSEDED and QUEUED, entries in start order. */
  private checkEntries(events: PipelineEvent[]): void {
    for (const event of events.filter((e) => e.type === "STAGE_STARTED")) {
      const stageIndex = this.document.stages.findIndex((s) => s.name === event.stageName);
      if (stageIndex > 0)
        assert.notEqual(
          this.runtime.transitions[event.stageName!]?.enabled,
          false,
          `entered ${event.stageName} past a disabled transition`,
        );
      const entered = this.entries.get(event.stageName!) ?? [];
      const order = this.started.indexOf(event.executionId!);
      if (this.document.executionMode !== "PARALLEL" && entered.length > 0)
        assert.ok(
          order > this.started.indexOf(entered.at(-1)!),
          `${event.executionId} entered ${event.stageName} out of order`,
        );
      this.entries.set(event.stageName!, [...entered, event.executionId!]);
    }
  }

  /** Every execution at a stage's entry, and every action of a running stage not yet running, says why. */
  private checkNobodyWaitsSilently(): void {
    for (const view of this.snapshots.values()) {
      if (view.currentStage === null) {
        assert.ok(FINAL.includes(view.status), `${view.executionId} is ${view.status} but nowhere`);
        continue;
      }
      if (!view.currentStage.entered) {
        assert.notEqual(view.waitingReason, null, `${view.executionId} waits silently`);
        continue;
      }
      if (view.status !== "InProgress") continue;
      const stage = view.stages.find((s) => s.stageName === view.currentStage!.stageName)!;
      if (stage.actions.some((a) => a.status === "Failed" || a.status === "Abandoned")) continue;
      for (const action of stage.actions) {
        const expected =
          action.status === null ? "RUN_ORDER" : action.status === "Queued" ? "NO_AGENT" : undefined;
        assert.equal(
          action.waitingReason?.code,
          expected,
          `${view.executionId}/${action.actionName} waits silently`,
        );
      }
    }
  }
}

/** Only null, booleans, finite numbers, strings, arrays and plain objects: what jsonb stores as it is. */
function assertPlainJson(value: unknown, path: string): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") return assert.ok(Number.isFinite(value), `${path} is ${value}`);
  if (Array.isArray(value)) return value.forEach((item, i) => assertPlainJson(item, `${path}[${i}]`));
  assert.equal(Object.prototype.toString.call(value), "[object Object]", `${path} is not plain JSON`);
  for (const [key, item] of Object.entries(value as object)) assertPlainJson(item, `${path}.${key}`);
}

function pick<T>(items: readonly T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}
