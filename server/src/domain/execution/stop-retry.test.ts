/**
 * Stop (stop and wait, abandon, a waiting execution) and retry (both modes, every refusal)
 * (PIPELINE-MODEL.md, "How revisions flow").
 */
import { approval, build, deploy, Machine, pipeline, source, stage, threeStages } from "./__tests__/harness";
import { timerKey } from "./index";

/** Source → Build [A, B (runOrder 1), C (runOrder 2)] → Deploy [Ship]. */
const doc = pipeline(
  "QUEUED",
  stage("Source", source()),
  stage("Build", build("A"), build("B"), build("C", { runOrder: 2 })),
  stage("Deploy", deploy("Ship")),
);

/** e1 in Build with A and B dispatched, A taken by an agent. */
function inBuild(): Machine {
  const m = new Machine(doc);
  m.start("e1");
  m.succeed("e1", "Checkout");
  m.take("e1", "A");
  return m;
}

describe("stop and wait (abandon: false)", () => {
  it("lets running actions finish, starts nothing new, then ends Stopped", () => {
    const m = inBuild();
    m.stop("e1", false);
    expect(m.lastEvents()).toEqual(["EXECUTION_STOPPING e1", "STAGE_STOPPING e1/Build"]);
    expect(m.lastOfType("Cancel")).toEqual([]);
    expect(m.view("e1")).toMatchObject({
      status: "Stopping",
      stop: { abandon: false, reason: "bad commit", by: "alice" },
    });

    m.succeed("e1", "A");
    expect(m.where("e1")).toBe("in Build (Stopping)");
    m.fail("e1", "B");
    expect(m.lastStarted()).toEqual([]);
    expect(m.lastEvents()).toEqual([
      "ACTION_FAILED e1/Build/B",
      "STAGE_STOPPED e1/Build",
      "EXECUTION_STOPPED e1",
    ]);
    expect(m.view("e1")).toMatchObject({ status: "Stopped", statusSummary: "Stopped by alice: bad commit" });
    expect(m.action("e1", "C").status).toBeNull();
  });

  it("abandons a pending manual approval at once: there is no work to wait for", () => {
    const m = new Machine(
      pipeline("SUPERSEDED", stage("Source", source()), stage("Prod", approval("Approve"))),
    );
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.stop("e1", false);
    expect(m.action("e1", "Approve")).toMatchObject({ status: "Abandoned", approvalPending: false });
    expect(m.where("e1")).toBe("Stopped");
  });

  it("may still be turned into an abandon while Stopping", () => {
    const m = inBuild();
    m.stop("e1", false);
    m.stop("e1", true, "taking too long");
    expect(m.lastOfType("Cancel").map((c) => c.actionExecutionId)).toEqual(["ae2", "ae3"]);
    expect(m.view("e1")).toMatchObject({
      status: "Stopped",
      statusSummary: "Stopped by alice: taking too long",
    });
  });
});

describe("stop and abandon (abandon: true)", () => {
  it("marks running actions Abandoned at once, tells their agents, and ends Stopped", () => {
    const m = inBuild();
    m.stop("e1", true);
    expect(m.lastEvents()).toEqual([
      "EXECUTION_STOPPING e1",
      "STAGE_STOPPING e1/Build",
      "ACTION_ABANDONED e1/Build/A",
      "ACTION_ABANDONED e1/Build/B",
      "STAGE_STOPPED e1/Build",
      "EXECUTION_STOPPED e1",
    ]);
    expect(m.lastOfType("Cancel")).toEqual([
      {
        type: "Cancel",
        actionExecutionId: "ae2",
        attempt: 1,
        reason: "Abandoned by alice: bad commit",
        agentId: "agent-1",
        durable: true,
      },
      {
        type: "Cancel",
        actionExecutionId: "ae3",
        attempt: 1,
        reason: "Abandoned by alice: bad commit",
        agentId: null,
        durable: true,
      },
    ]);
    expect(m.lastOfType("CancelTimer").map((c) => c.timerKey)).toEqual([
      timerKey("ae2", 1),
      timerKey("ae3", 1),
    ]);
    expect(m.action("e1", "A")).toMatchObject({
      status: "Abandoned",
      summary: "Abandoned by alice: bad commit",
    });
  });

  it("ignores the late results of abandoned actions", () => {
    const m = inBuild();
    m.stop("e1", true);
    const before = m.runtime;
    const late = m.send({
      type: "ActionCompleted",
      actionExecutionId: "ae2",
      attempt: 1,
      outcome: "Succeeded",
      summary: "done anyway",
    });
    expect(late).toEqual({ runtime: before, effects: [], changedExecutions: [] });
  });

  it("unlocks the stage for the next execution", () => {
    const m = inBuild();
    m.start("e2");
    m.succeed("e2", "Checkout");
    m.stop("e1", true);
    expect(m.board("e1", "e2")).toEqual({ e1: "Stopped", e2: "in Build" });
  });
});

describe("stopping an execution waiting at a stage's entry", () => {
  it("ends it Stopped right away and moves the line up", () => {
    const m = new Machine(threeStages("QUEUED"));
    for (const id of ["e1", "e2", "e3"]) m.start(id);
    m.stop("e2", false);
    expect(m.lastEvents()).toEqual(["EXECUTION_STOPPED e2", "EXECUTION_WAITING e3/Source"]);
    expect(m.board("e1", "e2", "e3")).toEqual({
      e1: "in Source",
      e2: "Stopped",
      e3: "waiting Source: STAGE_BUSY",
    });
  });
});

describe("stop refuses", () => {
  it.each([
    [
      "a finished execution",
      (m: Machine) => m.pass("e1", "Checkout", "A", "B", "C", "Ship"),
      false,
      /is Succeeded/,
    ],
    [
      "a Stopping one without abandon",
      (m: Machine) => m.stop("e1", false),
      false,
      /Stopping one can still be stopped with abandon/,
    ],
    ["one already abandoning", (m: Machine) => m.stop("e1", true), true, /is Stopped/],
  ])("%s", (_, before, abandon, message) => {
    const m = new Machine(doc);
    m.start("e1");
    before(m);
    expect(() => m.stop("e1", abandon)).toThrow(
      expect.objectContaining({ code: "CONFLICT", message: expect.stringMatching(message) }),
    );
  });

  it("an execution it does not know", () => {
    const m = new Machine(doc);
    expect(() => m.stop("nope", true)).toThrow(expect.objectContaining({ code: "CONFLICT" }));
  });
});

/** e1 failed in Build: A failed, B succeeded, C never started. */
function failedInBuild(): Machine {
  const m = new Machine(doc);
  m.start("e1");
  m.succeed("e1", "Checkout");
  m.fail("e1", "A");
  m.succeed("e1", "B");
  return m;
}

describe("retry FAILED_ACTIONS", () => {
  it("re-runs the failed actions as a new attempt, keeps what succeeded, and continues the stage", () => {
    const m = failedInBuild();
    m.retry("e1", "Build", "FAILED_ACTIONS");
    expect(m.lastEvents()).toEqual([
      "EXECUTION_RESUMED e1",
      "STAGE_RESUMED e1/Build",
      "ACTION_QUEUED e1/Build/A",
    ]);
    expect(m.lastDispatches().map((d) => [d.actionName, d.actionExecutionId, d.attempt])).toEqual([
      ["A", "ae4", 2],
    ]);
    expect(m.view("e1")).toMatchObject({ status: "InProgress", statusSummary: null, endTime: null });
    expect(m.action("e1", "A").attempts.map((a) => [a.actionExecutionId, a.attempt, a.status])).toEqual([
      ["ae2", 1, "Failed"],
      ["ae4", 2, "Queued"],
    ]);
    expect(m.action("e1", "B")).toMatchObject({ status: "Succeeded", attempt: 1 });

    m.succeed("e1", "A");
    expect(m.lastStarted()).toEqual(["e1:C"]);
    m.pass("e1", "C", "Ship");
    expect(m.where("e1")).toBe("Succeeded");
  });

  it("continues a Stopped stage with the actions it had not started", () => {
    const m = inBuild();
    m.stop("e1", false);
    m.pass("e1", "A", "B");
    expect(m.where("e1")).toBe("Stopped");
    m.retry("e1", "Build", "FAILED_ACTIONS");
    expect(m.lastStarted()).toEqual(["e1:C"]);
    expect(m.view("e1").stop).toBeNull();
  });

  it("re-runs abandoned actions", () => {
    const m = inBuild();
    m.stop("e1", true);
    m.retry("e1", "Build", "FAILED_ACTIONS");
    expect(m.lastStarted()).toEqual(["e1:A", "e1:B"]);
  });
});

describe("retry ALL_ACTIONS", () => {
  it("re-runs every action of the stage from the lowest runOrder", () => {
    const m = failedInBuild();
    m.retry("e1", "Build", "ALL_ACTIONS");
    expect(m.lastStarted()).toEqual(["e1:A", "e1:B"]);
    m.pass("e1", "A", "B");
    expect(m.lastStarted()).toEqual(["e1:C"]);
    expect(m.action("e1", "B").attempt).toBe(2);
  });
});

describe("retry takes the stage again", () => {
  it("so an execution held at its entry waits for it", () => {
    const m = failedInBuild();
    m.disable("Build");
    m.start("e2");
    m.succeed("e2", "Checkout");
    m.retry("e1", "Build", "FAILED_ACTIONS");
    m.enable("Build");
    expect(m.board("e1", "e2")).toEqual({ e1: "in Build", e2: "waiting Build: STAGE_BUSY" });
  });
});

describe("retry refuses, naming the condition that fails", () => {
  it.each<[string, (m: Machine) => void, string, string, RegExp]>([
    [
      "the execution is not the latest in the stage",
      (m) => {
        m.start("e2");
        m.succeed("e2", "Checkout");
      },
      "Build",
      "NOT_LATEST_EXECUTION",
      /e1 is not the latest execution in stage "Build" \(e2 is\)/,
    ],
    [
      "the stage succeeded",
      () => undefined,
      "Source",
      "STAGE_NOT_FAILED_OR_STOPPED",
      /Stage "Source" of execution e1 is Succeeded; only a Failed or Stopped stage can be retried/,
    ],
    [
      "the stage was never entered",
      () => undefined,
      "Deploy",
      "NOT_LATEST_EXECUTION",
      /not the latest execution in stage "Deploy"/,
    ],
  ])("when %s", (_, before, stageName, condition, message) => {
    const m = failedInBuild();
    before(m);
    expect(() => m.retry("e1", stageName, "FAILED_ACTIONS")).toThrow(
      expect.objectContaining({
        code: "CONFLICT",
        details: expect.objectContaining({ condition }),
        message: expect.stringMatching(message),
      }),
    );
  });

  it("when an action of the stage still runs", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.fail("e1", "A");
    expect(() => m.retry("e1", "Build", "FAILED_ACTIONS")).toThrow(
      expect.objectContaining({
        details: expect.objectContaining({ condition: "ACTIONS_RUNNING" }),
        message: 'Actions of stage "Build" of execution e1 still run: B.',
      }),
    );
  });

  it("when the stage is still in progress", () => {
    const m = inBuild();
    expect(() => m.retry("e1", "Source", "ALL_ACTIONS")).toThrow(
      expect.objectContaining({
        details: expect.objectContaining({ condition: "STAGE_NOT_FAILED_OR_STOPPED" }),
      }),
    );
  });

  it("with NOT_FOUND for a stage the execution does not have", () => {
    const m = failedInBuild();
    expect(() => m.retry("e1", "Nope", "FAILED_ACTIONS")).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
  });
});
