/**
 * Manual approvals (PIPELINE-MODEL.md, "Manual approval"): held pending by the machine, decided
 * once, failed by their timeout (7 days unless timeoutInMinutes says otherwise).
 */
import { approval, deploy, Machine, minutesAfterT0, pipeline, source, stage } from "./__tests__/harness";
import { timerKey } from "./index";

const SEVEN_DAYS = 7 * 24 * 60;

function gated(timeoutInMinutes: number | null = null): Machine {
  const m = new Machine(
    pipeline(
      "SUPERSEDED",
      stage("Source", source()),
      stage("Prod", approval("Approve", { timeoutInMinutes }), deploy("Ship", { runOrder: 2 })),
    ),
  );
  m.start("e1");
  m.succeed("e1", "Checkout");
  return m;
}

describe("a manual approval", () => {
  it("is held InProgress with approvalPending, dispatched to no agent, with a 7-day timer", () => {
    const m = gated();
    expect(m.lastEvents()).toEqual([
      "ACTION_SUCCEEDED e1/Source/Checkout",
      "STAGE_SUCCEEDED e1/Source",
      "STAGE_STARTED e1/Prod",
      "APPROVAL_NEEDED e1/Prod/Approve",
    ]);
    expect(m.lastDispatches()).toEqual([]);
    expect(m.lastOfType("ScheduleTimer")).toEqual([
      { type: "ScheduleTimer", timerKey: timerKey("ae2", 1), at: minutesAfterT0(SEVEN_DAYS) },
    ]);
    expect(m.action("e1", "Approve")).toMatchObject({
      status: "InProgress",
      approvalPending: true,
      waitingReason: null,
    });
    expect(m.action("e1", "Ship").waitingReason).toMatchObject({
      code: "RUN_ORDER",
      blockedBy: { approvalPending: true },
    });
  });

  it("approved: succeeds with the summary and who approved, and the stage goes on", () => {
    const m = gated();
    m.clock = 10;
    m.approve("e1", "Approve", true, "ship it");
    expect(m.lastEvents()).toEqual(["APPROVAL_APPROVED e1/Prod/Approve", "ACTION_QUEUED e1/Prod/Ship"]);
    expect(m.lastOfType("CancelTimer")).toEqual([{ type: "CancelTimer", timerKey: timerKey("ae2", 1) }]);
    expect(m.action("e1", "Approve")).toMatchObject({
      status: "Succeeded",
      approvalPending: false,
      summary: "ship it",
      attempts: [
        expect.objectContaining({
          approval: { approved: true, summary: "ship it", by: "bob", at: minutesAfterT0(10) },
        }),
      ],
    });
  });

  it("rejected: fails with the summary, and the execution with it", () => {
    const m = gated();
    m.approve("e1", "Approve", false, "not on a Friday");
    expect(m.lastEvents()).toEqual([
      "APPROVAL_REJECTED e1/Prod/Approve",
      "STAGE_FAILED e1/Prod",
      "EXECUTION_FAILED e1",
    ]);
    expect(m.action("e1", "Approve")).toMatchObject({ status: "Failed", summary: "not on a Friday" });
    expect(m.view("e1").statusSummary).toBe('Action "Approve" of stage "Prod" failed: not on a Friday');
  });

  it.each([
    [null, SEVEN_DAYS],
    [60, 60],
  ])("with timeoutInMinutes %p, fails after %d minutes without a decision", (timeoutInMinutes, minutes) => {
    const m = gated(timeoutInMinutes);
    expect(m.lastOfType("ScheduleTimer")[0]!.at).toBe(minutesAfterT0(minutes));
    m.clock = minutes;
    m.fire(timerKey("ae2", 1));
    expect(m.lastEvents()).toEqual([
      "APPROVAL_TIMED_OUT e1/Prod/Approve",
      "STAGE_FAILED e1/Prod",
      "EXECUTION_FAILED e1",
    ]);
    expect(m.lastOfType("Cancel")).toEqual([]); // no agent holds it
    expect(m.action("e1", "Approve")).toMatchObject({
      status: "Failed",
      summary: `Approval timed out after ${minutes} minutes.`,
    });
  });

  it.each([
    ["after an approval", (m: Machine) => m.approve("e1", "Approve", true)],
    ["after a rejection", (m: Machine) => m.approve("e1", "Approve", false)],
  ])("cannot be decided again %s", (_, first) => {
    const m = gated();
    const id = m.action("e1", "Approve").actionExecutionId!;
    first(m);
    expect(() =>
      m.send({ type: "ApprovalResult", actionExecutionId: id, approved: false, summary: "no", by: "eve" }),
    ).toThrow(expect.objectContaining({ code: "CONFLICT", message: expect.stringMatching(/decided once/) }));
  });

  it("cannot be decided after its timeout", () => {
    const m = gated();
    const id = m.action("e1", "Approve").actionExecutionId!;
    m.fire(timerKey(id, 1));
    expect(() => m.approve("e1", "Approve")).toThrow(expect.objectContaining({ code: "CONFLICT" }));
  });

  it("a decision for an action that is not an approval is a conflict", () => {
    const m = gated();
    m.approve("e1", "Approve");
    expect(() => m.approve("e1", "Ship")).toThrow(expect.objectContaining({ code: "CONFLICT" }));
  });

  it("an agent's result cannot decide it", () => {
    const m = gated();
    const id = m.action("e1", "Approve").actionExecutionId!;
    const decision = m.send({
      type: "ActionCompleted",
      actionExecutionId: id,
      attempt: 1,
      outcome: "Succeeded",
      summary: null,
    });
    expect(decision.effects).toEqual([]);
  });

  it("a summary over 512 characters is BAD_USER_INPUT", () => {
    const m = gated();
    expect(() => m.approve("e1", "Approve", true, "x".repeat(513))).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT" }),
    );
    expect(m.approve("e1", "Approve", true, "x".repeat(512)).effects).not.toEqual([]);
  });
});
