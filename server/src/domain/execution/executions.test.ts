/**
 * An execution as a whole: what it pins at start, rollback, idempotent results, the views the
 * engine stores and serves, and which finished executions the runtime keeps.
 */
import { artifact, build, deploy, Machine, pipeline, source, stage, threeStages } from "./__tests__/harness";
import { executionView, lastSucceededExecution, type StartExecutionEvent } from "./index";

describe("start", () => {
  it("pins the document, version, trigger, revisions and variables it started with", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    const revision = {
      actionName: "Checkout",
      revisionId: "abc",
      revisionSummary: "Fix login",
      revisionUrl: "https://git.example/c/abc",
    };
    m.start("e1", {
      pipelineVersion: 3,
      trigger: { triggerType: "Webhook", triggerDetail: "push to main" },
      sourceRevisions: [revision],
    });
    m.document = pipeline("SUPERSEDED", stage("Source", source()), stage("Test", build("Unit")));
    m.succeed("e1", "Checkout");
    expect(m.view("e1")).toMatchObject({
      pipelineName: "web",
      executionId: "e1",
      pipelineVersion: 3,
      executionMode: "SUPERSEDED",
      trigger: { triggerType: "Webhook", triggerDetail: "push to main" },
      sourceRevisions: [revision],
      rollback: null,
      currentStage: { stageName: "Build", entered: true },
    });
    expect(m.view("e1").stages.map((s) => [s.stageName, s.status])).toEqual([
      ["Source", "Succeeded"],
      ["Build", "InProgress"],
      ["Deploy", null],
    ]);
  });

  it("refuses an execution id the runtime already has", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.start("e1");
    expect(() => m.start("e1")).toThrow(expect.objectContaining({ code: "CONFLICT" }));
  });
});

describe("rollback", () => {
  const doc = pipeline(
    "SUPERSEDED",
    stage("Source", source()),
    stage("Build", build("Compile", { namespace: "BuildVariables", outputArtifacts: [{ name: "App" }] })),
    stage(
      "Deploy",
      deploy("Ship", {
        inputArtifacts: [{ name: "App" }],
        configuration: { Commands: "ship #{BuildVariables.Version}" },
      }),
    ),
  );
  const v1 = artifact("App", "objects/e1/App");

  function rollback(extra: Partial<StartExecutionEvent["rollback"]> = {}): Partial<StartExecutionEvent> {
    return {
      trigger: { triggerType: "ManualRollback", triggerDetail: "alice" },
      rollback: {
        stageName: "Deploy",
        fromExecutionId: "e1",
        artifacts: [v1],
        variables: { BuildVariables: { Version: "1.0" } },
        ...extra,
      },
    };
  }

  it("runs only its stage, with the artifacts and output variables of the earlier execution", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.succeed("e1", "Compile", {
      outputVariables: { Version: "1.0" },
      outputArtifacts: [m.output("e1", "Compile", "App")],
    });
    m.succeed("e1", "Ship");
    expect(lastSucceededExecution(m.runtime, "Deploy")).toBe("e1");

    m.start("r1", rollback());
    expect(m.lastStarted()).toEqual(["r1:Ship"]);
    expect(m.lastDispatches()[0]).toMatchObject({
      inputArtifacts: [v1],
      configuration: { Commands: "ship 1.0" },
    });
    m.succeed("r1", "Ship");
    expect(m.view("r1")).toMatchObject({
      status: "Succeeded",
      rollback: { stageName: "Deploy", fromExecutionId: "e1" },
    });
    expect(m.view("r1").stages.map((s) => s.status)).toEqual([null, null, "Succeeded"]);
  });

  it("waits for its stage like any execution", () => {
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.succeed("e1", "Compile", {
      outputVariables: { Version: "2.0" },
      outputArtifacts: [m.output("e1", "Compile", "App")],
    });
    m.start("r1", rollback());
    expect(m.where("r1")).toBe("waiting Deploy: STAGE_BUSY");
  });

  it.each<[string, Partial<StartExecutionEvent>, RegExp]>([
    ["the first stage", rollback({ stageName: "Source" }), /cannot be rolled back/],
    ["a stage the pipeline lacks", rollback({ stageName: "Nope" }), /no stage "Nope"/],
    [
      "a non-rollback trigger",
      { ...rollback(), trigger: { triggerType: "Webhook", triggerDetail: null } },
      /ManualRollback/,
    ],
    [
      "a rollback trigger without a stage",
      { trigger: { triggerType: "ManualRollback", triggerDetail: null } },
      /needs the stage/,
    ],
  ])("refuses %s", (_, extra, message) => {
    const m = new Machine(doc);
    expect(() => m.start("r1", extra)).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringMatching(message) }),
    );
  });

  it("refuses PARALLEL pipelines", () => {
    const m = new Machine({ ...doc, executionMode: "PARALLEL" });
    expect(() => m.start("r1", rollback())).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringMatching(/PARALLEL/) }),
    );
  });
});

describe("results are idempotent", () => {
  function queued() {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.start("e1");
    return m;
  }

  it.each<[string, (m: Machine) => void]>([
    ["a duplicate result", (m) => m.succeed("e1", "Checkout")],
    [
      "a result for an unknown id",
      (m) =>
        m.send({
          type: "ActionCompleted",
          actionExecutionId: "zz",
          attempt: 1,
          outcome: "Failed",
          summary: null,
        }),
    ],
    [
      "a result for another attempt",
      (m) =>
        m.send({
          type: "ActionCompleted",
          actionExecutionId: "ae2",
          attempt: 2,
          outcome: "Failed",
          summary: null,
        }),
    ],
  ])("%s changes nothing", (_, act) => {
    const m = queued();
    m.succeed("e1", "Checkout");
    const before = m.runtime;
    act(m);
    expect(m.last).toEqual({ runtime: before, effects: [], changedExecutions: [] });
  });

  it("a late ActionStarted changes nothing but tells its agent the attempt is not running", () => {
    const m = queued();
    m.succeed("e1", "Checkout");
    const before = m.runtime;
    m.send({ type: "ActionStarted", actionExecutionId: "ae1", attempt: 1, agent: { id: "a", name: "a" } });
    expect(m.last).toEqual({
      runtime: before,
      effects: [
        {
          type: "Cancel",
          actionExecutionId: "ae1",
          attempt: 1,
          reason: "NotRunning",
          agentId: "a",
          durable: false,
        },
      ],
      changedExecutions: [],
    });
  });

  it("a duplicate ActionStarted changes nothing", () => {
    const m = queued();
    m.take("e1", "Checkout");
    expect(m.action("e1", "Checkout")).toMatchObject({ status: "InProgress", startTime: m.now });
    expect(m.take("e1", "Checkout").effects).toEqual([]);
  });

  it("a result may come without ActionStarted", () => {
    const m = queued();
    m.succeed("e1", "Checkout");
    expect(m.action("e1", "Checkout").status).toBe("Succeeded");
  });
});

describe("the pipeline state", () => {
  it("shows per stage the latest execution, who waits at the entry and each action's latest execution", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.start("e1");
    m.succeed("e1", "Checkout", { externalUrl: "https://git.example/c/1" });
    m.start("e2");
    m.succeed("e2", "Checkout");
    const [sourceState, buildState, deployState] = m.stageState();
    expect(sourceState).toMatchObject({
      stageName: "Source",
      inboundTransition: null,
      latestExecution: { executionId: "e2", status: "Succeeded" },
      waitingExecutions: [],
      actions: [
        {
          actionName: "Checkout",
          latestExecution: expect.objectContaining({ executionId: "e2", status: "Succeeded", attempt: 1 }),
        },
      ],
    });
    expect(buildState).toMatchObject({
      latestExecution: { executionId: "e1", status: "InProgress" },
      waitingExecutions: [
        { executionId: "e2", waitingReason: expect.objectContaining({ code: "STAGE_BUSY" }) },
      ],
      actions: [
        {
          actionName: "Compile",
          latestExecution: expect.objectContaining({ executionId: "e1", status: "Queued" }),
        },
      ],
    });
    expect(deployState).toMatchObject({
      latestExecution: null,
      waitingExecutions: [],
      actions: [{ actionName: "Ship", latestExecution: null }],
    });
  });
});

describe("which executions the runtime keeps", () => {
  it("lists every execution a decision changed, and keeps it for that decision's snapshot", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.start("e1");
    m.start("e2");
    m.start("e3");
    expect(m.last.changedExecutions).toEqual(["e3", "e2"]);
    expect(executionView(m.runtime, "e2")?.status).toBe("Superseded");
  });

  it("forgets a finished execution once no stage points at it", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.start("e1");
    m.pass("e1", "Checkout", "Compile", "Ship");
    m.start("e2");
    m.succeed("e2", "Checkout");
    expect(Object.keys(m.runtime.executions)).toEqual(["e1", "e2"]); // e1 is still Build's latest
    m.succeed("e2", "Compile"); // e2 enters Deploy: now the latest everywhere
    expect(Object.keys(m.runtime.executions)).toEqual(["e2"]);
    expect(executionView(m.runtime, "e1")).toBeUndefined();
    expect(m.view("e1").status).toBe("Succeeded"); // the engine's copy
  });

  it("is plain JSON", () => {
    const m = new Machine(threeStages("QUEUED"));
    m.start("e1");
    m.start("e2");
    m.succeed("e1", "Checkout", {
      outputArtifacts: [m.output("e1", "Checkout", "SourceCode")],
      outputVariables: { CommitId: "x" },
    });
    m.disable("Deploy");
    expect(JSON.parse(JSON.stringify(m.runtime))).toEqual(m.runtime);
  });
});

describe("names that are also Object.prototype keys", () => {
  it("work as stage, namespace and artifact names", () => {
    const doc = pipeline(
      "SUPERSEDED",
      stage(
        "__proto__",
        source("Checkout", { namespace: "constructor", outputArtifacts: [{ name: "__proto__" }] }),
      ),
      stage(
        "toString",
        build("Compile", {
          inputArtifacts: [{ name: "__proto__" }],
          configuration: { Commands: "#{constructor.Id}" },
        }),
      ),
    );
    const m = new Machine(doc);
    m.start("e1");
    const proto = m.output("e1", "Checkout", "__proto__");
    m.succeed("e1", "Checkout", { outputVariables: { Id: "7" }, outputArtifacts: [proto] });
    expect(m.lastDispatches()[0]).toMatchObject({
      configuration: { Commands: "7" },
      inputArtifacts: [proto],
    });
    expect(m.stageState()[0]!.latestExecution).toEqual({ executionId: "e1", status: "Succeeded" });
    expect(Object.keys(m.runtime.stages)).toEqual(["__proto__", "toString"]);
    expect(JSON.parse(JSON.stringify(m.runtime))).toEqual(m.runtime);
  });
});
