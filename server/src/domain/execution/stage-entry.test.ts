/**
 * Stage locking and the lines at stage entries, per execution mode (PIPELINE-MODEL.md, "How
 * revisions flow"), and Sluice's onNewerRevision: SUPERSEDE_PENDING_APPROVAL.
 */
import {
  approval,
  build,
  deploy,
  Machine,
  minutesAfterT0,
  pipeline,
  source,
  stage,
  supersedePendingApproval,
  threeStages,
} from "./__tests__/harness";
import type { ExecutionMode } from "../pipeline/document";

/** Three executions started back to back, then moved on one result at a time. */
describe.each<[ExecutionMode, Record<string, Record<string, string>>]>([
  [
    "SUPERSEDED",
    {
      "all three start": {
        e1: "in Source",
        e2: "Superseded",
        e3: "waiting Source: STAGE_BUSY",
      },
      "e1 finishes Source": { e1: "in Build", e2: "Superseded", e3: "in Source" },
      "the one in Source finishes it": { e1: "in Build", e2: "Superseded", e3: "waiting Build: STAGE_BUSY" },
      "e1 finishes Build": { e1: "in Deploy", e2: "Superseded", e3: "in Build" },
    },
  ],
  [
    "QUEUED",
    {
      "all three start": {
        e1: "in Source",
        e2: "waiting Source: STAGE_BUSY",
        e3: "waiting Source: QUEUED",
      },
      "e1 finishes Source": { e1: "in Build", e2: "in Source", e3: "waiting Source: STAGE_BUSY" },
      "the one in Source finishes it": { e1: "in Build", e2: "waiting Build: STAGE_BUSY", e3: "in Source" },
      "e1 finishes Build": { e1: "in Deploy", e2: "in Build", e3: "in Source" },
    },
  ],
  [
    "PARALLEL",
    {
      "all three start": { e1: "in Source", e2: "in Source", e3: "in Source" },
      "e1 finishes Source": { e1: "in Build", e2: "in Source", e3: "in Source" },
      "the one in Source finishes it": { e1: "in Build", e2: "in Build", e3: "in Source" },
      "e1 finishes Build": { e1: "in Deploy", e2: "in Build", e3: "in Source" },
    },
  ],
])("%s with three executions in flight", (mode, boards) => {
  const m = new Machine(threeStages(mode));
  const inSource = () => (m.where("e2") === "in Source" ? "e2" : "e3");
  const steps: [string, () => void][] = [
    ["all three start", () => ["e1", "e2", "e3"].forEach((id) => m.start(id))],
    ["e1 finishes Source", () => m.succeed("e1", "Checkout")],
    ["the one in Source finishes it", () => m.succeed(inSource(), "Checkout")],
    ["e1 finishes Build", () => m.succeed("e1", "Compile")],
  ];
  it.each(steps)("%s", (name, act) => {
    act();
    expect(m.board("e1", "e2", "e3")).toEqual(boards[name]);
  });
});

describe("SUPERSEDED", () => {
  it("a newer execution arriving at an entry ends the older one waiting there as Superseded", () => {
    const m = new Machine(threeStages("SUPERSEDED"));
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.start("e2");
    m.succeed("e2", "Checkout");
    m.start("e3");
    m.succeed("e3", "Checkout");
    expect(m.lastEvents()).toEqual([
      "ACTION_SUCCEEDED e3/Source/Checkout",
      "STAGE_SUCCEEDED e3/Source",
      "EXECUTION_SUPERSEDED e2",
      "EXECUTION_WAITING e3/Build",
    ]);
    expect(m.view("e2")).toMatchObject({
      status: "Superseded",
      statusSummary: 'Superseded by the newer execution e3 at the entry of stage "Build".',
    });
    expect(m.board("e1", "e2", "e3")).toEqual({
      e1: "in Build",
      e2: "Superseded",
      e3: "waiting Build: STAGE_BUSY",
    });
  });

  it("never supersedes an execution inside a stage, even one waiting for an approval", () => {
    const m = new Machine(
      pipeline("SUPERSEDED", stage("Source", source()), stage("Prod", approval("Approve"))),
    );
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.start("e2");
    m.succeed("e2", "Checkout");
    expect(m.board("e1", "e2")).toEqual({ e1: "in Prod", e2: "waiting Prod: STAGE_BUSY" });
    expect(m.view("e2").waitingReason).toEqual({
      code: "STAGE_BUSY",
      message: 'Stage "Prod" is busy with execution e1, which waits for a manual approval.',
      since: minutesAfterT0(0),
      blockedBy: { executionId: "e1", approvalPending: true },
    });
    m.start("e3");
    m.succeed("e3", "Checkout");
    expect(m.board("e1", "e2", "e3")).toEqual({
      e1: "in Prod",
      e2: "Superseded",
      e3: "waiting Prod: STAGE_BUSY",
    });
  });
});

describe("QUEUED", () => {
  it("lets waiting executions in in arrival order, none superseded", () => {
    const m = new Machine(threeStages("QUEUED"));
    for (const id of ["e1", "e2", "e3", "e4"]) m.start(id);
    const entered: string[] = [];
    for (let i = 0; i < 4; i++) {
      const inside = ["e1", "e2", "e3", "e4"].find((id) => m.where(id) === "in Source")!;
      entered.push(inside);
      m.succeed(inside, "Checkout");
    }
    expect(entered).toEqual(["e1", "e2", "e3", "e4"]);
    expect(["e1", "e2", "e3", "e4"].map((id) => m.view(id).status)).not.toContain("Superseded");
  });

  it("gives each one in line its place, and moves the places up as the line moves", () => {
    const m = new Machine(threeStages("QUEUED"));
    for (const id of ["e1", "e2", "e3"]) m.start(id);
    expect(m.view("e2").waitingReason).toMatchObject({
      code: "STAGE_BUSY",
      blockedBy: { executionId: "e1", approvalPending: false, position: 1 },
    });
    expect(m.view("e3").waitingReason).toEqual({
      code: "QUEUED",
      message: 'Waits in line at the entry of stage "Source", behind execution e2 (position 2).',
      since: minutesAfterT0(0),
      blockedBy: { executionId: "e2", position: 2 },
    });
    m.clock = 5;
    m.succeed("e1", "Checkout");
    expect(m.view("e3").waitingReason).toMatchObject({
      code: "STAGE_BUSY",
      since: minutesAfterT0(5),
      blockedBy: { executionId: "e2", position: 1 },
    });
    expect(m.lastEvents()).toContain("EXECUTION_WAITING e3/Source");
  });
});

describe("PARALLEL", () => {
  it("runs executions independently: a later one may finish first, a failure touches no other", () => {
    const m = new Machine(threeStages("PARALLEL"));
    m.start("e1");
    m.start("e2");
    m.pass("e2", "Checkout", "Compile", "Ship");
    m.succeed("e1", "Checkout");
    m.fail("e1", "Compile");
    expect(m.board("e1", "e2")).toEqual({ e1: "Failed", e2: "Succeeded" });
  });
});

describe("onNewerRevision: SUPERSEDE_PENDING_APPROVAL", () => {
  const gated = (mode: ExecutionMode = "SUPERSEDED") =>
    pipeline(
      mode,
      stage("Source", source()),
      supersedePendingApproval(stage("Prod", approval("Approve"), deploy("Ship", { runOrder: 2 }))),
    );

  it("replaces a holder whose only started work is a pending approval; the approval is cancelled", () => {
    const m = new Machine(gated());
    m.start("e1");
    m.succeed("e1", "Checkout");
    const pending = m.action("e1", "Approve").actionExecutionId!;
    m.start("e2");
    m.succeed("e2", "Checkout");
    expect(m.lastEvents()).toEqual([
      "ACTION_SUCCEEDED e2/Source/Checkout",
      "STAGE_SUCCEEDED e2/Source",
      "ACTION_ABANDONED e1/Prod/Approve",
      "STAGE_CANCELLED e1/Prod",
      "EXECUTION_SUPERSEDED e1",
      "STAGE_STARTED e2/Prod",
      "APPROVAL_NEEDED e2/Prod/Approve",
    ]);
    expect(m.lastOfType("CancelTimer").map((e) => e.timerKey)).toContain(`action-timeout:${pending}:1`);
    expect(m.board("e1", "e2")).toEqual({ e1: "Superseded", e2: "in Prod" });
    expect(m.action("e1", "Approve")).toMatchObject({ status: "Abandoned", approvalPending: false });
    expect(() =>
      m.send({
        type: "ApprovalResult",
        actionExecutionId: pending,
        approved: true,
        summary: "ok",
        by: "bob",
      }),
    ).toThrow(expect.objectContaining({ code: "CONFLICT" }));
  });

  it("also when earlier actions of the stage succeeded before the approval", () => {
    const doc = pipeline(
      "SUPERSEDED",
      stage("Source", source()),
      supersedePendingApproval(stage("Prod", deploy("Canary"), approval("Approve", { runOrder: 2 }))),
    );
    const m = new Machine(doc);
    m.start("e1");
    m.pass("e1", "Checkout", "Canary");
    m.start("e2");
    m.succeed("e2", "Checkout");
    expect(m.board("e1", "e2")).toEqual({ e1: "Superseded", e2: "in Prod" });
  });

  it("waits while other work of the holder runs, and replaces it once only the approval is left", () => {
    const doc = pipeline(
      "SUPERSEDED",
      stage("Source", source()),
      supersedePendingApproval(stage("Prod", approval("Approve"), deploy("Smoke"))),
    );
    const m = new Machine(doc);
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.start("e2");
    m.succeed("e2", "Checkout");
    expect(m.board("e1", "e2")).toEqual({ e1: "in Prod", e2: "waiting Prod: STAGE_BUSY" });
    m.succeed("e1", "Smoke");
    expect(m.board("e1", "e2")).toEqual({ e1: "Superseded", e2: "in Prod" });
  });

  it("does not apply without the stage option, nor in QUEUED mode", () => {
    for (const doc of [
      pipeline("SUPERSEDED", stage("Source", source()), stage("Prod", approval("Approve"))),
      gated("QUEUED"),
    ]) {
      const m = new Machine(doc);
      m.start("e1");
      m.succeed("e1", "Checkout");
      m.start("e2");
      m.succeed("e2", "Checkout");
      expect(m.board("e1", "e2")).toEqual({ e1: "in Prod", e2: "waiting Prod: STAGE_BUSY" });
    }
  });

  it("does not replace a holder that is stopping", () => {
    const m = new Machine(
      pipeline(
        "SUPERSEDED",
        stage("Source", source()),
        supersedePendingApproval(stage("Prod", approval("Approve"), build("Smoke"))),
      ),
    );
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.stop("e1", false);
    m.start("e2");
    m.succeed("e2", "Checkout");
    expect(m.board("e1", "e2")).toEqual({ e1: "in Prod (Stopping)", e2: "waiting Prod: STAGE_BUSY" });
    m.succeed("e1", "Smoke");
    expect(m.board("e1", "e2")).toEqual({ e1: "Stopped", e2: "in Prod" });
  });
});
