/**
 * Transitions (PIPELINE-MODEL.md, "How revisions flow"): disabling holds what arrives and stops
 * nothing that runs; enabling lets the waiting execution in (SUPERSEDED: the newest only).
 */
import { Machine, minutesAfterT0, threeStages } from "./__tests__/harness";
import type { ExecutionMode } from "../pipeline/document";

describe("a disabled transition", () => {
  it("stops nothing inside the stage and holds what arrives, saying who disabled it and why", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.clock = 3;
    m.disable("Build", "release freeze");
    expect(m.last.changedExecutions).toEqual([]);
    expect(m.lastEvents()).toEqual(["TRANSITION_DISABLED Build"]);
    expect(m.last.effects[0]).toEqual({
      type: "Event",
      event: {
        pipelineName: "web",
        type: "TRANSITION_DISABLED",
        executionId: null,
        sequence: null,
        stageName: "Build",
        at: minutesAfterT0(3),
      },
    });
    m.succeed("e1", "Compile");
    expect(m.where("e1")).toBe("in Deploy"); // Deploy's transition is enabled

    m.start("e2");
    m.clock = 4;
    m.succeed("e2", "Checkout");
    expect(m.where("e2")).toBe("waiting Build: TRANSITION_DISABLED");
    expect(m.view("e2").waitingReason).toEqual({
      code: "TRANSITION_DISABLED",
      message: 'The transition into stage "Build" is disabled by carol: release freeze',
      since: minutesAfterT0(4),
      blockedBy: { disabledBy: "carol", disabledReason: "release freeze" },
    });
  });

  it.each<[ExecutionMode, Record<string, string>]>([
    ["SUPERSEDED", { e1: "Superseded", e2: "Superseded", e3: "in Build" }],
    ["QUEUED", { e1: "in Build", e2: "waiting Build: STAGE_BUSY", e3: "waiting Build: QUEUED" }],
    ["PARALLEL", { e1: "in Build", e2: "in Build", e3: "in Build" }],
  ])("in %s mode, enabling the transition gives %j", (mode, board) => {
    const m = new Machine(threeStages(mode));
    m.disable("Build");
    for (const id of ["e1", "e2", "e3"]) {
      m.start(id);
      m.succeed(id, "Checkout");
    }
    m.enable("Build");
    expect(m.board("e1", "e2", "e3")).toEqual(board);
  });

  it("holds the line in QUEUED mode with each one's place", () => {
    const m = new Machine(threeStages("QUEUED"));
    m.disable("Build");
    for (const id of ["e1", "e2"]) {
      m.start(id);
      m.succeed(id, "Checkout");
    }
    expect(m.view("e2").waitingReason?.blockedBy).toEqual({
      disabledBy: "carol",
      disabledReason: "release freeze",
      position: 2,
    });
  });

  it("changes the waiting reason when it is enabled while the stage is still busy", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.disable("Build");
    m.start("e2");
    m.succeed("e2", "Checkout");
    m.enable("Build");
    expect(m.lastEvents()).toEqual(["TRANSITION_ENABLED Build", "EXECUTION_WAITING e2/Build"]);
    expect(m.where("e2")).toBe("waiting Build: STAGE_BUSY");
  });
});

describe("toggling", () => {
  it("records who changed the transition and when, in the pipeline state", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.clock = 1;
    m.disable("Deploy", "waiting for QA");
    expect(m.stageState().map((s) => s.inboundTransition)).toEqual([
      null,
      {
        enabled: true,
        disabledReason: null,
        disabledBy: null,
        disabledAt: null,
        lastChangedBy: null,
        lastChangedAt: null,
      },
      {
        enabled: false,
        disabledReason: "waiting for QA",
        disabledBy: "carol",
        disabledAt: minutesAfterT0(1),
        lastChangedBy: "carol",
        lastChangedAt: minutesAfterT0(1),
      },
    ]);
    m.clock = 2;
    m.enable("Deploy");
    expect(m.stageState()[2]!.inboundTransition).toEqual({
      enabled: true,
      disabledReason: null,
      disabledBy: null,
      disabledAt: null,
      lastChangedBy: "carol",
      lastChangedAt: minutesAfterT0(2),
    });
  });

  it("enabling an enabled transition changes nothing", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    expect(m.enable("Build").effects).toEqual([]);
  });

  it.each([
    ["the first stage", "Source", "x", "BAD_USER_INPUT", /first stage: it has no inbound transition/],
    ["a stage the pipeline lacks", "Nope", "x", "NOT_FOUND", /no stage "Nope"/],
    ["without a reason", "Build", "  ", "BAD_USER_INPUT", /needs a reason/],
    [
      "with a reason over 300 characters",
      "Build",
      "x".repeat(301),
      "BAD_USER_INPUT",
      /at most 300 characters/,
    ],
  ])("refuses to disable %s", (_, stageName, reason, code, message) => {
    const m = new Machine(threeStages("SUPERSEDED"));
    expect(() => m.disable(stageName, reason)).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });

  it("accepts a reason of exactly 300 characters", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    expect(m.disable("Build", "x".repeat(300)).effects).toHaveLength(1);
  });
});
