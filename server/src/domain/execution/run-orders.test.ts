/**
 * Inside a stage: runOrder waves, failure of a parallel action, variables and artifacts carried
 * into Dispatch, timeouts scheduled at dispatch (PIPELINE-MODEL.md rules 7, 8, 11; "Variables").
 */
import {
  artifact,
  build,
  deploy,
  Machine,
  minutesAfterT0,
  pipeline,
  source,
  stage,
} from "./__tests__/harness";
import { timerKey } from "./index";

describe("runOrder waves", () => {
  const doc = pipeline(
    "SUPERSEDED",
    stage("Source", source()),
    stage(
      "Build",
      build("A", { runOrder: 1 }),
      build("B", { runOrder: 1 }),
      build("C", { runOrder: 2 }),
      build("D", { runOrder: 10 }),
    ),
  );

  it("dispatches the first stage's actions at start", () => {
    const m = new Machine(doc);
    m.start("e1");
    expect(m.lastStarted()).toEqual(["e1:Checkout"]);
  });

  // After each result: what the decision starts, and the execution's status.
  it.each([
    ["Checkout", ["e1:A", "e1:B"], "InProgress"],
    ["A", [], "InProgress"],
    ["B", ["e1:C"], "InProgress"],
    ["C", ["e1:D"], "InProgress"],
    ["D", [], "Succeeded"],
  ] as const)("when %s succeeds, starts %j; execution %s", (succeeded, started, status) => {
    const m = new Machine(doc);
    m.start("e1");
    for (const previous of ["Checkout", "A", "B", "C", "D"]) {
      m.succeed("e1", previous);
      if (previous === succeeded) break;
    }
    expect(m.lastStarted()).toEqual(started);
    expect(m.view("e1").status).toBe(status);
  });

  it("shows RUN_ORDER on every action waiting for lower runOrders, naming what it waits for", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.succeed("e1", "A");
    expect(m.action("e1", "C").waitingReason).toEqual({
      code: "RUN_ORDER",
      message: "Waits for runOrder 1 (B) to succeed before runOrder 2 starts.",
      since: minutesAfterT0(0),
      blockedBy: { approvalPending: false },
    });
    expect(m.action("e1", "D").waitingReason?.code).toBe("RUN_ORDER");
    expect(m.action("e1", "B").waitingReason).toMatchObject({ code: "NO_AGENT", since: minutesAfterT0(0) });
    m.take("e1", "B");
    expect(m.action("e1", "B").waitingReason).toBeNull();
  });

  it("emits the stage and action events in order, one sequence number each", () => {
    const m = new Machine(pipeline("SUPERSEDED", stage("Source", source()), stage("Build", build("A"))));
    m.start("e1");
    m.take("e1", "Checkout");
    m.succeed("e1", "Checkout");
    m.succeed("e1", "A");
    const events = m.eventsOf("e1");
    expect(
      events.map((e) => `${e.sequence} ${e.type} ${e.stageName ?? ""} ${e.actionName ?? ""}`.trim()),
    ).toEqual([
      "1 EXECUTION_STARTED",
      "2 STAGE_STARTED Source",
      "3 ACTION_QUEUED Source Checkout",
      "4 ACTION_STARTED Source Checkout",
      "5 ACTION_SUCCEEDED Source Checkout",
      "6 STAGE_SUCCEEDED Source",
      "7 STAGE_STARTED Build",
      "8 ACTION_QUEUED Build A",
      "9 ACTION_SUCCEEDED Build A",
      "10 STAGE_SUCCEEDED Build",
      "11 EXECUTION_SUCCEEDED",
    ]);
    expect(m.view("e1").sequence).toBe(11);
  });
});

describe("a failed action", () => {
  const doc = pipeline(
    "SUPERSEDED",
    stage("Source", source()),
    stage("Build", build("A"), build("B"), build("C", { runOrder: 2 })),
    stage("Deploy", deploy("Ship")),
  );

  it("fails the stage only once its running siblings ended, and the execution with it", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.fail("e1", "A", "tests failed");
    expect(m.stageStatus("e1", "Build")).toBe("InProgress");
    expect(m.view("e1").status).toBe("InProgress");
    expect(m.action("e1", "C").waitingReason).toBeNull(); // it will not run

    m.succeed("e1", "B");
    expect(m.lastStarted()).toEqual([]);
    expect(m.lastEvents()).toEqual([
      "ACTION_SUCCEEDED e1/Build/B",
      "STAGE_FAILED e1/Build",
      "EXECUTION_FAILED e1",
    ]);
    expect(m.view("e1")).toMatchObject({
      status: "Failed",
      statusSummary: 'Action "A" of stage "Build" failed: tests failed',
      currentStage: null,
      endTime: minutesAfterT0(0),
    });
    expect(m.action("e1", "C").status).toBeNull();
    expect(m.stageStatus("e1", "Deploy")).toBeNull();
  });

  it("unlocks its stage: the next execution enters", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.start("e2");
    m.succeed("e2", "Checkout");
    expect(m.where("e2")).toBe("waiting Build: STAGE_BUSY");
    m.fail("e1", "A");
    m.succeed("e1", "B");
    expect(m.board("e1", "e2")).toEqual({ e1: "Failed", e2: "in Build" });
  });
});

describe("what Dispatch carries", () => {
  const doc = {
    ...pipeline(
      "SUPERSEDED",
      stage("Source", source("Checkout", { namespace: "SourceVariables", region: "linux" })),
      stage(
        "Build",
        build("Compile", {
          configuration: {
            Commands:
              "make COMMIT=#{SourceVariables.CommitId} ENV=#{variables.Env} RUN=#{codepipeline.PipelineExecutionId}",
          },
          inputArtifacts: [{ name: "SourceCode" }],
          outputArtifacts: [{ name: "App" }],
          timeoutInMinutes: 30,
        }),
      ),
      stage("Deploy", deploy("Ship", { inputArtifacts: [{ name: "App" }, { name: "SourceCode" }] })),
    ),
    variables: [
      { name: "Env", defaultValue: "staging", description: null },
      { name: "Region", defaultValue: null, description: null },
    ],
  };
  const revision = {
    actionName: "Checkout",
    revisionId: "abc123",
    revisionSummary: "Fix",
    revisionUrl: null,
  };

  function started() {
    const m = new Machine(doc);
    m.start("e1", { variables: { Env: "prod" }, sourceRevisions: [revision] });
    return m;
  }

  it("a source action gets the execution's revision, its pool and its default timeout", () => {
    const m = started();
    expect(m.lastDispatches()).toEqual([
      {
        type: "Dispatch",
        actionExecutionId: "ae1",
        attempt: 1,
        executionId: "e1",
        pipelineName: "web",
        stageName: "Source",
        actionName: "Checkout",
        actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
        runOrder: 1,
        configuration: { Repository: "https://git.example/app.git", Branch: "main" },
        inputArtifacts: [],
        outputArtifacts: [{ name: "SourceCode" }],
        region: "linux",
        timeoutInMinutes: 480,
        sourceRevision: revision,
      },
    ]);
    expect(m.lastOfType("ScheduleTimer")).toEqual([
      { type: "ScheduleTimer", timerKey: timerKey("ae1", 1), at: minutesAfterT0(480) },
    ]);
  });

  it("resolves output, pipeline and execution variables, and records the resolved configuration", () => {
    const m = started();
    const source = m.output("e1", "Checkout", "SourceCode");
    m.succeed("e1", "Checkout", {
      outputVariables: { CommitId: "abc123" },
      outputArtifacts: [source],
    });
    const [dispatch] = m.lastDispatches();
    expect(dispatch).toMatchObject({
      actionName: "Compile",
      configuration: { Commands: "make COMMIT=abc123 ENV=prod RUN=e1" },
      inputArtifacts: [source],
      outputArtifacts: [{ name: "App" }],
      region: null,
      timeoutInMinutes: 30,
      sourceRevision: null,
    });
    expect(m.action("e1", "Compile").resolvedConfiguration).toEqual(dispatch!.configuration);
    expect(m.view("e1").variables).toEqual([
      { name: "Env", resolvedValue: "prod" },
      { name: "Region", resolvedValue: "" },
    ]);
    expect(m.view("e1").outputVariables).toEqual({ SourceVariables: { CommitId: "abc123" } });
  });

  it("carries the recorded locations of artifacts from earlier stages", () => {
    const m = started();
    const source = m.output("e1", "Checkout", "SourceCode");
    m.succeed("e1", "Checkout", {
      outputVariables: { CommitId: "abc" },
      outputArtifacts: [source],
    });
    const app = m.output("e1", "Compile", "App");
    m.succeed("e1", "Compile", { outputArtifacts: [app] });
    expect(m.lastDispatches()[0]!.inputArtifacts).toEqual([app, source]);
    expect(m.view("e1").artifacts).toEqual([source, app]);
  });

  it("refuses outputs the action does not declare, or stored under another attempt's key", () => {
    const m = started();
    m.succeed("e1", "Checkout", {
      outputVariables: { CommitId: "abc" },
      outputArtifacts: [m.output("e1", "Checkout", "SourceCode")],
    });
    m.succeed("e1", "Compile", { outputArtifacts: [m.output("e1", "Compile", "Secrets")] });
    expect(m.action("e1", "Compile")).toMatchObject({
      status: "Failed",
      errorDetails: { code: "ConfigurationError" },
    });
    expect(m.action("e1", "Compile").summary).toMatch(/"Secrets", which the action does not declare/);
    expect(m.view("e1").artifacts.map((a) => a.name)).toEqual(["SourceCode"]);
    const m2 = started();
    m2.succeed("e1", "Checkout", {
      outputVariables: { CommitId: "abc" },
      outputArtifacts: [artifact("SourceCode", "other-execution/j1/1/SourceCode")],
    });
    expect(m2.action("e1", "Checkout").summary).toMatch(/reported at "other-execution\/j1\/1\/SourceCode"/);
    expect(m2.view("e1").artifacts).toEqual([]);
  });

  it("fails an action at once, without dispatch, when a reference has no value", () => {
    const m = started();
    m.succeed("e1", "Checkout", { outputArtifacts: [m.output("e1", "Checkout", "SourceCode")] }); // no CommitId
    expect(m.lastDispatches()).toEqual([]);
    expect(m.action("e1", "Compile")).toMatchObject({
      status: "Failed",
      summary:
        "The configuration refers to #{SourceVariables.CommitId}, which has no value in this execution.",
      errorDetails: { code: "ConfigurationError" },
    });
    expect(m.view("e1").status).toBe("Failed");
  });

  it("fails an action at once when no earlier action produced its input artifact", () => {
    const m = started();
    m.succeed("e1", "Checkout", { outputVariables: { CommitId: "abc" } }); // no artifact reported
    expect(m.action("e1", "Compile")).toMatchObject({
      status: "Failed",
      summary: "No earlier action of this execution produced the input artifact SourceCode.",
    });
  });

  it("refuses to start with a variable the pipeline does not declare", () => {
    const m = new Machine(doc);
    expect(() => m.start("e1", { variables: { Stage: "x" } })).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringContaining('"Stage"') }),
    );
    expect(m.runtime.executions).toEqual({});
  });
});

describe("action timeouts", () => {
  const doc = pipeline(
    "SUPERSEDED",
    stage("Source", source()),
    stage("Build", build("Compile", { timeoutInMinutes: 20 })),
  );

  it("cancels the timer when the result comes", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    expect(m.lastOfType("CancelTimer")).toEqual([{ type: "CancelTimer", timerKey: timerKey("ae1", 1) }]);
    expect(m.lastOfType("ScheduleTimer")).toEqual([
      { type: "ScheduleTimer", timerKey: timerKey("ae2", 1), at: minutesAfterT0(20) },
    ]);
  });

  it("fails a running action whose timer fires, and tells its agent to stop", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.take("e1", "Compile");
    m.clock = 20;
    m.fire(timerKey("ae2", 1));
    expect(m.lastOfType("Cancel")).toEqual([
      {
        type: "Cancel",
        actionExecutionId: "ae2",
        attempt: 1,
        reason: "TimedOut",
        agentId: "agent-1",
        durable: true,
      },
    ]);
    expect(m.action("e1", "Compile")).toMatchObject({
      status: "Failed",
      summary: "Timed out after 20 minutes.",
    });
    expect(m.view("e1").status).toBe("Failed");
  });

  it("ignores the timer of an attempt that already ended", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    const before = m.runtime;
    expect(m.fire(timerKey("ae1", 1))).toEqual({ runtime: before, effects: [], changedExecutions: [] });
    expect(m.fire("some-other-timer")).toEqual({ runtime: before, effects: [], changedExecutions: [] });
  });
});
