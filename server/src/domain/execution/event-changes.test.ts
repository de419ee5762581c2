/**
 * Events carry what changed (events.ts `emit`): the state the views show after the change, as
 * copies, and never more than the protocol lets a pipeline event weigh (MAX_MESSAGE_BYTES).
 */
import { encode, MAX_MESSAGE_BYTES } from "@sluice/protocol";
import { Machine, approval, build, pipeline, source, stage } from "./__tests__/harness";
import { EVENT_OUTPUT_VARIABLES_BYTES } from "./events";

function machine() {
  const m = new Machine(
    pipeline(
      "SUPERSEDED",
      stage("Source", source()),
      stage("Build", build("Make", { outputArtifacts: [{ name: "Bin" }] })),
    ),
  );
  m.start("e1");
  m.pass("e1", "Checkout");
  m.take("e1", "Make");
  return m;
}

const last = (m: Machine, type: string) =>
  m
    .eventsOf("e1")
    .filter((e) => e.type === type)
    .at(-1)!;

it("carries the attempt's state, its outputs and the stage's and execution's times", () => {
  const m = machine();
  const started = last(m, "ACTION_STARTED");
  expect(started).toMatchObject({
    attempt: 1,
    agentName: "builder-1",
    endTime: null,
    approvalPending: false,
  });
  expect(started.startTime).toBe(started.at);
  const bin = m.output("e1", "Make", "Bin");
  m.succeed("e1", "Make", {
    summary: "built",
    outputVariables: { Version: "1.2.3" },
    outputArtifacts: [bin],
  });
  const done = last(m, "ACTION_SUCCEEDED");
  expect(done).toMatchObject({
    summary: "built",
    errorDetails: null,
    outputVariables: { Version: "1.2.3" },
    outputArtifacts: [bin],
    endTime: done.at,
  });
  expect(done.outputArtifacts![0]).not.toBe(m.view("e1").artifacts[0]); // a copy
  expect(last(m, "STAGE_SUCCEEDED")).toMatchObject({ stageName: "Build", endTime: done.at });
  const end = last(m, "EXECUTION_SUCCEEDED");
  expect(end).toMatchObject({ endTime: end.at, startTime: m.view("e1").startTime });
  expect(end.statusSummary).toBe(m.view("e1").statusSummary);
  // Each event is a valid protocol message.
  for (const event of m.eventsOf("e1")) expect(() => encode("pipelineEvent", event)).not.toThrow();
});

it("carries an approval's decision", () => {
  const m = new Machine(pipeline("SUPERSEDED", stage("Source", source()), stage("Gate", approval("Ok"))));
  m.start("e1");
  m.pass("e1", "Checkout");
  expect(last(m, "APPROVAL_NEEDED")).toMatchObject({ approvalPending: true, approval: null });
  m.approve("e1", "Ok", true, "ship it");
  const decided = last(m, "APPROVAL_APPROVED");
  expect(decided).toMatchObject({
    approvalPending: false,
    status: "Succeeded",
    approval: { approved: true, summary: "ship it", at: decided.at, by: expect.any(String) },
  });
  expect(() => encode("pipelineEvent", decided)).not.toThrow();
});

it("leaves large output variables out, and cuts what else would make the event too large", () => {
  const m = machine();
  const large = { Big: "x".repeat(EVENT_OUTPUT_VARIABLES_BYTES) };
  m.succeed("e1", "Make", { summary: "ok", outputVariables: large });
  expect(last(m, "ACTION_SUCCEEDED").outputVariables).toBeUndefined();

  const n = machine();
  // The longest texts the protocol allows, four UTF-8 bytes a character.
  n.send({
    type: "ActionCompleted",
    actionExecutionId: n.action("e1", "Make").actionExecutionId!,
    attempt: 1,
    outcome: "Failed",
    summary: "😀".repeat(1024),
    errorDetails: { code: "E", message: "😀".repeat(2500) },
    agentId: "agent-1",
  });
  const failed = last(n, "ACTION_FAILED");
  expect([...failed.summary!].length).toBeLessThanOrEqual(1000);
  expect(failed.summary!.endsWith("😀…")).toBe(true);
  expect([...failed.errorDetails!.message].length).toBeLessThanOrEqual(1000);
  expect(encode("pipelineEvent", failed).byteLength).toBeLessThanOrEqual(MAX_MESSAGE_BYTES.pipelineEvent);
  // What the execution keeps is whole.
  expect(n.action("e1", "Make").errorDetails!.message).toBe("😀".repeat(2500));
});
