/**
 * The shared harness of the state machine tests: document builders and a `Machine` that feeds
 * decide one event at a time, the way the engine does (clock and ids passed in, runtime kept
 * between events, a snapshot of every changed execution kept after each decision).
 *
 *   const m = new Machine(pipeline("SUPERSEDED", stage("Source", source()), stage("Build", build("Compile"))));
 *   m.start("e1");
 *   m.succeed("e1", "Checkout");
 *   expect(m.where("e1")).toBe("in Build");
 *
 * `where` and `board` describe executions in one short string, so tables read like the model:
 * "in Build", "waiting Build: STAGE_BUSY", "Succeeded".
 */
import type {
  ActionDeclaration,
  ExecutionMode,
  PipelineDocument,
  StageDeclaration,
} from "../../pipeline/document";
import { decide, emptyRuntime, executionView, stageStateView } from "../index";
import type {
  ActionExecutionView,
  ActionCompletedEvent,
  ArtifactLocation,
  Decision,
  DispatchEffect,
  Effect,
  ExecutionView,
  PipelineEvent,
  PipelineRuntime,
  RuntimeEvent,
  StartExecutionEvent,
} from "../index";

// ── Documents ────────────────────────────────────────────────────────────────────────────────────

type Overrides = Partial<ActionDeclaration>;

function action(
  name: string,
  category: ActionDeclaration["actionTypeId"]["category"],
  provider: string,
  o: Overrides,
): ActionDeclaration {
  return {
    name,
    actionTypeId: { category, owner: "Sluice", provider, version: "1" },
    runOrder: 1,
    configuration: {},
    inputArtifacts: [],
    outputArtifacts: [],
    namespace: null,
    region: null,
    timeoutInMinutes: null,
    retryPolicy: null,
    awsMetadata: null,
    ...o,
  };
}

/** Source/Git producing `SourceCode`. */
export function source(name = "Checkout", o: Overrides = {}): ActionDeclaration {
  return action(name, "Source", "Git", {
    configuration: { Repository: "https://git.example/app.git", Branch: "main" },
    outputArtifacts: [{ name: "SourceCode" }],
    ...o,
  });
}

/** Build/Shell (no input unless given, so any stage can hold it). */
export function build(name: string, o: Overrides = {}): ActionDeclaration {
  return action(name, "Build", "Shell", { configuration: { Commands: "make" }, ...o });
}

export function deploy(name: string, o: Overrides = {}): ActionDeclaration {
  return action(name, "Deploy", "Shell", { configuration: { Commands: "ship" }, ...o });
}

export function approval(name: string, o: Overrides = {}): ActionDeclaration {
  return action(name, "Approval", "Manual", o);
}

export function stage(name: string, ...actions: ActionDeclaration[]): StageDeclaration {
  return { name, actions, onNewerRevision: null, awsMetadata: null };
}

export function supersedePendingApproval(declaration: StageDeclaration): StageDeclaration {
  return { ...declaration, onNewerRevision: "SUPERSEDE_PENDING_APPROVAL" };
}

export function pipeline(executionMode: ExecutionMode, ...stages: StageDeclaration[]): PipelineDocument {
  return {
    name: "web",
    executionMode,
    variables: [],
    triggers: [],
    schedules: [],
    stages,
    awsMetadata: null,
  };
}

/** Source [Checkout] → Build [Compile] → Deploy [Ship]: one action per stage. */
export function threeStages(mode: ExecutionMode): PipelineDocument {
  return pipeline(
    mode,
    stage("Source", source()),
    stage("Build", build("Compile")),
    stage("Deploy", deploy("Ship")),
  );
}

// ── The machine ──────────────────────────────────────────────────────────────────────────────────

export const T0 = Date.parse("2025-01-01T00:00:00.000Z");

export function minutesAfterT0(minutes: number): string {
  return new Date(T0 + minutes * 60_000).toISOString();
}

export class Machine {
  runtime: PipelineRuntime;
  /** Minutes since T0. */
  clock = 0;
  private ids = 0;
  /** Every effect of every decision, in order. */
  readonly effects: Effect[] = [];
  /** The effects of the last decision. */
  last: Decision = { runtime: emptyRuntime("web"), effects: [], changedExecutions: [] };
  /** The latest snapshot of every execution, as the engine keeps it. */
  readonly snapshots = new Map<string, ExecutionView>();

  constructor(public document: PipelineDocument) {
    this.runtime = emptyRuntime(document.name);
  }

  get now(): string {
    return minutesAfterT0(this.clock);
  }

  send(event: RuntimeEvent): Decision {
    const decision = decide(this.runtime, event, { now: this.now, newId: () => `ae${++this.ids}` });
    this.runtime = decision.runtime;
    this.last = decision;
    this.effects.push(...decision.effects);
    for (const id of decision.changedExecutions) {
      const view = executionView(decision.runtime, id);
      if (view === undefined) throw new Error(`changed execution ${id} has no view`);
      this.snapshots.set(id, view);
    }
    return decision;
  }

  start(executionId: string, extra: Partial<StartExecutionEvent> = {}): Decision {
    return this.send({
      type: "StartExecution",
      executionId,
      document: this.document,
      pipelineVersion: 1,
      trigger: { triggerType: "StartPipelineExecution", triggerDetail: "alice" },
      sourceRevisions: [],
      variables: {},
      ...extra,
    });
  }

  view(executionId: string): ExecutionView {
    const view = this.snapshots.get(executionId);
    if (view === undefined) throw new Error(`no execution ${executionId}`);
    return view;
  }

  action(executionId: string, actionName: string): ActionExecutionView {
    for (const s of this.view(executionId).stages) {
      const found = s.actions.find((a) => a.actionName === actionName);
      if (found) return found;
    }
    throw new Error(`no action ${actionName} in ${executionId}`);
  }

  stageStatus(executionId: string, stageName: string) {
    return this.view(executionId).stages.find((s) => s.stageName === stageName)?.status;
  }

  /** "in Build", "waiting Build: STAGE_BUSY", or the final status ("Superseded"). */
  where(executionId: string): string {
    const view = this.view(executionId);
    const current = view.currentStage;
    if (current === null) return view.status;
    const status = view.status === "InProgress" ? "" : ` (${view.status})`;
    return current.entered
      ? `in ${current.stageName}${status}`
      : `waiting ${current.stageName}: ${view.waitingReason?.code ?? "NO REASON"}${status}`;
  }

  board(...executionIds: string[]): Record<string, string> {
    return Object.fromEntries(executionIds.map((id) => [id, this.where(id)]));
  }

  /** An output artifact of the action's current attempt, stored where that attempt must store it. */
  output(executionId: string, actionName: string, name: string): ArtifactLocation {
    const a = this.action(executionId, actionName);
    return artifact(name, `${executionId}/${a.actionExecutionId}/${a.attempt}/${name}`);
  }

  private result(executionId: string, actionName: string, fields: Partial<ActionCompletedEvent>): Decision {
    const a = this.action(executionId, actionName);
    if (a.actionExecutionId === null) throw new Error(`${actionName} of ${executionId} never started`);
    return this.send({
      type: "ActionCompleted",
      actionExecutionId: a.actionExecutionId,
      attempt: a.attempt,
      outcome: "Succeeded",
      summary: null,
      ...fields,
    });
  }

  take(executionId: string, actionName: string): Decision {
    const a = this.action(executionId, actionName);
    return this.send({
      type: "ActionStarted",
      actionExecutionId: a.actionExecutionId!,
      attempt: a.attempt,
      agent: { id: "agent-1", name: "builder-1" },
    });
  }

  succeed(executionId: string, actionName: string, fields: Partial<ActionCompletedEvent> = {}): Decision {
    return this.result(executionId, actionName, { outcome: "Succeeded", ...fields });
  }

  fail(executionId: string, actionName: string, summary = "exit 1"): Decision {
    return this.result(executionId, actionName, { outcome: "Failed", summary });
  }

  /** Succeeds the actions named, in order. */
  pass(executionId: string, ...actionNames: string[]): void {
    for (const name of actionNames) this.succeed(executionId, name);
  }

  approve(executionId: string, actionName: string, approved = true, summary = "looks good"): Decision {
    return this.send({
      type: "ApprovalResult",
      actionExecutionId: this.action(executionId, actionName).actionExecutionId!,
      approved,
      summary,
      by: "bob",
    });
  }

  stop(executionId: string, abandon: boolean, reason = "bad commit"): Decision {
    return this.send({ type: "StopExecution", executionId, abandon, reason, by: "alice" });
  }

  retry(executionId: string, stageName: string, mode: "FAILED_ACTIONS" | "ALL_ACTIONS"): Decision {
    return this.send({ type: "RetryStage", executionId, stageName, mode, by: "alice" });
  }

  disable(stageName: string, reason = "release freeze"): Decision {
    return this.send({
      type: "ToggleTransition",
      document: this.document,
      stageName,
      enabled: false,
      reason,
      by: "carol",
    });
  }

  enable(stageName: string): Decision {
    return this.send({
      type: "ToggleTransition",
      document: this.document,
      stageName,
      enabled: true,
      by: "carol",
    });
  }

  fire(timerKey: string): Decision {
    return this.send({ type: "TimerFired", timerKey });
  }

  stageState() {
    return stageStateView(this.runtime, this.document);
  }

  /** The events of the last decision, as "TYPE execution/stage/action". */
  lastEvents(): string[] {
    return this.last.effects.flatMap((e) => (e.type === "Event" ? [describeEvent(e.event)] : []));
  }

  eventsOf(executionId: string): PipelineEvent[] {
    return this.effects.flatMap((e) =>
      e.type === "Event" && e.event.executionId === executionId ? [e.event] : [],
    );
  }

  dispatches(): DispatchEffect[] {
    return this.effects.filter((e): e is DispatchEffect => e.type === "Dispatch");
  }

  lastDispatches(): DispatchEffect[] {
    return this.last.effects.filter((e): e is DispatchEffect => e.type === "Dispatch");
  }

  /** Names of the actions dispatched (or put up for approval) by the last decision, "exec:action". */
  lastStarted(): string[] {
    return this.last.effects.flatMap((e) => {
      if (e.type === "Dispatch") return [`${e.executionId}:${e.actionName}`];
      if (e.type === "Event" && e.event.type === "APPROVAL_NEEDED")
        return [`${e.event.executionId}:${e.event.actionName}`];
      return [];
    });
  }

  lastOfType<T extends Effect["type"]>(type: T): Extract<Effect, { type: T }>[] {
    return this.last.effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
  }
}

export function describeEvent(event: PipelineEvent): string {
  const where = [event.executionId, event.stageName, event.actionName]
    .filter((part) => part != null)
    .join("/");
  return `${event.type} ${where}`;
}

export function artifact(name: string, objectKey = `objects/${name}`): ArtifactLocation {
  return { name, objectKey, size: 1024, sha256: "0".repeat(64) };
}
