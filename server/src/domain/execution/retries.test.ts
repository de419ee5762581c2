/**
 * Leases and retries (agents issue): an agent that stops heartbeating is lost when its lease runs
 * out; the action's retry policy (or the default one) decides whether another attempt runs.
 */
import { Machine, build, deploy, pipeline, source, stage } from "./__tests__/harness";
import { timerKey } from "./index";
import type { RetryPolicy } from "../pipeline/document";

const lease = 15;

function started(m: Machine, executionId: string, actionName: string, agentId = "agent-1") {
  const a = m.action(executionId, actionName);
  return m.send({
    type: "ActionStarted",
    actionExecutionId: a.actionExecutionId!,
    attempt: a.attempt,
    agent: { id: agentId, name: `${agentId}.example` },
    leaseSeconds: lease,
  });
}

function failed(m: Machine, executionId: string, actionName: string, fields: Record<string, unknown> = {}) {
  const a = m.action(executionId, actionName);
  return m.send({
    type: "ActionCompleted",
    actionExecutionId: a.actionExecutionId!,
    attempt: a.attempt,
    outcome: "Failed",
    summary: "exit 1",
    agentId: "agent-1",
    ...fields,
  });
}

function machine(policy: RetryPolicy | null = null, category: "Build" | "Deploy" = "Build") {
  const action =
    category === "Build"
      ? build("Compile", { retryPolicy: policy })
      : deploy("Ship", { retryPolicy: policy });
  const m = new Machine(pipeline("SUPERSEDED", stage("Source", source()), stage("Work", action)));
  m.start("e1");
  m.succeed("e1", "Checkout");
  return m;
}

describe("leases", () => {
  it("start when an agent takes the job and end with the attempt", () => {
    const m = machine();
    const id = m.action("e1", "Compile").actionExecutionId!;
    expect(started(m, "e1", "Compile").effects).toContainEqual({
      type: "ScheduleTimer",
      timerKey: timerKey(id, 1, "lease"),
      at: new Date(Date.parse(m.now) + lease * 1000).toISOString(),
      agentId: "agent-1",
    });
    m.succeed("e1", "Compile");
    expect(m.lastOfType("CancelTimer")).toContainEqual({
      type: "CancelTimer",
      timerKey: timerKey(id, 1, "lease"),
    });
  });

  it("running out fails the attempt as agent lost, tells the agent, and the default policy retries it", () => {
    const m = machine();
    started(m, "e1", "Compile");
    const first = m.action("e1", "Compile").actionExecutionId!;
    m.fire(timerKey(first, 1, "lease"));
    const action = m.action("e1", "Compile");
    expect(action.attempts[0]).toMatchObject({
      status: "Failed",
      summary: "Agent agent-1.example lost: no heartbeat for 15 s.",
      errorDetails: { code: "AgentLost" },
      failureType: "SystemUnavailable",
      cause: "LeaseExpired",
      failureCause: "AGENT_LOST",
    });
    expect(m.lastOfType("Cancel")).toEqual([
      {
        type: "Cancel",
        actionExecutionId: first,
        attempt: 1,
        reason: "AgentLost",
        agentId: "agent-1",
        durable: true,
      },
    ]);
    expect(action).toMatchObject({ status: "Queued", attempt: 2 });
    expect(action.actionExecutionId).not.toBe(first);
    expect(m.lastDispatches()).toHaveLength(1);
    expect(m.where("e1")).toBe("in Work");
  });

  it("gives up after three attempts by default, and the stage fails", () => {
    const m = machine();
    for (let attempt = 1; attempt <= 3; attempt++) {
      started(m, "e1", "Compile");
      m.fire(timerKey(m.action("e1", "Compile").actionExecutionId!, attempt, "lease"));
    }
    expect(m.action("e1", "Compile")).toMatchObject({ status: "Failed", attempt: 3 });
    expect(m.view("e1").status).toBe("Failed");
  });

  it("a revoked token is named in the summary", () => {
    const m = machine();
    started(m, "e1", "Compile");
    const first = m.action("e1", "Compile").actionExecutionId!;
    m.send({
      type: "TimerFired",
      timerKey: timerKey(first, 1, "lease"),
      detail: "The token of agent agent-1.example was revoked.",
    });
    expect(m.action("e1", "Compile").attempts[0]!.summary).toBe(
      "The token of agent agent-1.example was revoked.",
    );
  });

  it("a lease timer of an attempt that already ended changes nothing", () => {
    const m = machine();
    started(m, "e1", "Compile");
    const first = m.action("e1", "Compile").actionExecutionId!;
    m.succeed("e1", "Compile");
    const before = m.runtime;
    m.fire(timerKey(first, 1, "lease"));
    expect(m.last).toEqual({ runtime: before, effects: [], changedExecutions: [] });
  });
});

describe("duplicates", () => {
  it("a second agent accepting a running attempt is told Duplicate, on its own subject only", () => {
    const m = machine();
    started(m, "e1", "Compile", "agent-1");
    const id = m.action("e1", "Compile").actionExecutionId!;
    expect(started(m, "e1", "Compile", "agent-2").effects).toEqual([
      {
        type: "Cancel",
        actionExecutionId: id,
        attempt: 1,
        reason: "Duplicate",
        agentId: "agent-2",
        durable: false,
      },
    ]);
    expect(m.action("e1", "Compile").attempts[0]!.agent?.id).toBe("agent-1");
  });

  it("the result of the agent holding a duplicate is ignored", () => {
    const m = machine();
    started(m, "e1", "Compile", "agent-1");
    const before = m.runtime;
    failed(m, "e1", "Compile", { agentId: "agent-2" });
    expect(m.last.runtime).toBe(before);
  });
});

describe("retry policies", () => {
  it("retries FAILED attempts after the backoff, with the action running meanwhile", () => {
    const m = machine({ maxAttempts: 2, backoffSeconds: 30, on: ["FAILED"] });
    started(m, "e1", "Compile");
    const first = m.action("e1", "Compile").actionExecutionId!;
    failed(m, "e1", "Compile");
    const waiting = m.action("e1", "Compile");
    expect(waiting).toMatchObject({ status: "Failed", attempt: 1 });
    expect(waiting.retryAt).toBe(new Date(Date.parse(m.now) + 30_000).toISOString());
    expect(m.lastEvents()).toContain("ACTION_RETRY_SCHEDULED e1/Work/Compile");
    expect(m.where("e1")).toBe("in Work");
    m.fire(timerKey(first, 1, "retry"));
    expect(m.action("e1", "Compile")).toMatchObject({ status: "Queued", attempt: 2, retryAt: null });
    started(m, "e1", "Compile");
    m.succeed("e1", "Compile");
    expect(m.view("e1").status).toBe("Succeeded");
  });

  it("does not retry a cause the policy does not name", () => {
    const m = machine({ maxAttempts: 3, backoffSeconds: 0, on: ["AGENT_LOST"] });
    started(m, "e1", "Compile");
    failed(m, "e1", "Compile");
    expect(m.view("e1").status).toBe("Failed");
  });

  it("retries TIMED_OUT when named; the failure cause comes from the result", () => {
    const m = machine({ maxAttempts: 2, backoffSeconds: 0, on: ["TIMED_OUT"] });
    started(m, "e1", "Compile");
    failed(m, "e1", "Compile", { cause: "TimedOut", failureType: "JobFailed" });
    expect(m.action("e1", "Compile")).toMatchObject({ status: "Queued", attempt: 2 });
    expect(m.action("e1", "Compile").attempts[0]).toMatchObject({
      cause: "TimedOut",
      failureCause: "TIMED_OUT",
      failureType: "JobFailed",
    });
  });

  it("never retries a cause that is not retryable, even when the policy names its condition", () => {
    const m = machine({ maxAttempts: 3, backoffSeconds: 0, on: ["FAILED", "AGENT_LOST", "TIMED_OUT"] });
    started(m, "e1", "Compile");
    failed(m, "e1", "Compile", { cause: "ConfigurationInvalid", failureType: "ConfigurationError" });
    expect(m.action("e1", "Compile").attempts).toHaveLength(1);
    expect(m.action("e1", "Compile").attempts[0]).toMatchObject({
      cause: "ConfigurationInvalid",
      failureCause: "FAILED",
    });
    expect(m.view("e1").status).toBe("Failed");
  });

  it("retries an agent that stopped its job for its shutdown as a lost agent (the default policy)", () => {
    const m = machine();
    started(m, "e1", "Compile");
    failed(m, "e1", "Compile", { cause: "AgentShutdown", failureType: "SystemUnavailable" });
    expect(m.action("e1", "Compile")).toMatchObject({ status: "Queued", attempt: 2 });
    expect(m.action("e1", "Compile").attempts[0]).toMatchObject({ failureCause: "AGENT_LOST" });
  });

  it("reads a failure without a cause as Unknown: retried under FAILED", () => {
    const m = machine({ maxAttempts: 2, backoffSeconds: 0, on: ["FAILED"] });
    started(m, "e1", "Compile");
    failed(m, "e1", "Compile");
    expect(m.action("e1", "Compile").attempts[0]).toMatchObject({ cause: "Unknown", failureCause: "FAILED" });
    expect(m.action("e1", "Compile")).toMatchObject({ status: "Queued", attempt: 2 });
  });

  it("never retries a Deploy whose agent was lost unless its policy says so", () => {
    const m = machine(null, "Deploy");
    started(m, "e1", "Ship");
    m.fire(timerKey(m.action("e1", "Ship").actionExecutionId!, 1, "lease"));
    expect(m.view("e1").status).toBe("Failed");

    const explicit = machine({ maxAttempts: 2, backoffSeconds: 0, on: ["AGENT_LOST"] }, "Deploy");
    started(explicit, "e1", "Ship");
    explicit.fire(timerKey(explicit.action("e1", "Ship").actionExecutionId!, 1, "lease"));
    expect(explicit.action("e1", "Ship")).toMatchObject({ status: "Queued", attempt: 2 });
  });

  it("a stop drops a scheduled retry and the execution ends Stopped", () => {
    const m = machine({ maxAttempts: 2, backoffSeconds: 60, on: ["FAILED"] });
    started(m, "e1", "Compile");
    const first = m.action("e1", "Compile").actionExecutionId!;
    failed(m, "e1", "Compile");
    m.stop("e1", false);
    expect(m.lastOfType("CancelTimer")).toContainEqual({
      type: "CancelTimer",
      timerKey: timerKey(first, 1, "retry"),
    });
    expect(m.view("e1").status).toBe("Stopped");
    expect(m.action("e1", "Compile").retryAt).toBeNull();
  });

  it("records the test report of a result", () => {
    const m = machine();
    started(m, "e1", "Compile");
    const a = m.action("e1", "Compile");
    m.send({
      type: "ActionCompleted",
      actionExecutionId: a.actionExecutionId!,
      attempt: 1,
      outcome: "Succeeded",
      summary: "ok",
      testReport: { passed: 10, failed: 0, skipped: 2 },
    });
    expect(m.action("e1", "Compile").testReport).toEqual({ passed: 10, failed: 0, skipped: 2 });
  });
});
