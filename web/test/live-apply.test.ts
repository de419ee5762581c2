/**
 * The live views' reducers (src/components/live-apply.ts, src/features/pipeline/live.ts): an event
 * changes what a page shows from what it carries, in new objects; an event the data already
 * includes changes nothing; a skipped sequence, a new execution or too little in the event asks
 * for the page again.
 */
import {
  applyEvent,
  applyToExecution,
  REFETCH,
  withArtifacts,
  type LiveEvent,
} from "@/components/live-apply";
import { PIPELINE_LIVE } from "@/features/pipeline/live";
import type { PipelineViewQuery } from "@/gql/graphql";

const at = "2026-12-07T09:00:00.000Z";

function execution() {
  return {
    id: "e1",
    sequence: 10,
    status: "InProgress",
    statusSummary: null as string | null,
    endTime: null as string | null,
    currentStage: { stageName: "Build", entered: true } as { stageName: string; entered: boolean } | null,
    waitingReason: null,
    stages: [
      {
        name: "Build",
        status: "InProgress",
        startTime: at,
        endTime: null as string | null,
        actions: [
          {
            id: "a1",
            name: "Make",
            status: "Queued",
            startTime: null as string | null,
            endTime: null as string | null,
            agent: null as { name: string } | null,
            errorDetails: null as { message: string } | null,
            outputVariables: {} as Record<string, unknown>,
            waitingReason: { code: "NO_AGENT", message: "no agent" } as unknown,
          },
        ],
      },
    ],
  };
}

const event = (fields: Partial<LiveEvent> & { type: string }): LiveEvent => ({
  pipelineName: "p",
  executionId: "e1",
  sequence: 11,
  at,
  ...fields,
});

describe("applyToExecution", () => {
  it("writes an action's new state from the event, and only the fields the page selected", () => {
    const before = execution();
    const after = applyToExecution(
      before,
      event({
        type: "ACTION_STARTED",
        stageName: "Build",
        actionName: "Make",
        actionExecutionId: "a1",
        status: "InProgress",
        startTime: at,
        endTime: null,
        agentName: "agent-1",
        summary: "building",
      }),
    );
    expect(after).not.toBe(before);
    if (after === REFETCH) throw new Error("refetch");
    const action = after.stages[0]!.actions[0]!;
    expect(action).toMatchObject({
      status: "InProgress",
      startTime: at,
      agent: { name: "agent-1" },
      waitingReason: null,
    });
    expect("summary" in action).toBe(false); // not selected: not added
    expect(before.stages[0]!.actions[0]!.status).toBe("Queued"); // the old data is left as it was
  });

  it("ends the execution: status, summary, end, no current stage", () => {
    const after = applyToExecution(
      execution(),
      event({ type: "EXECUTION_FAILED", status: "Failed", statusSummary: "Make failed", endTime: at }),
    );
    expect(after).toMatchObject({
      status: "Failed",
      statusSummary: "Make failed",
      endTime: at,
      currentStage: null,
    });
  });

  it("asks for the page when the event lacks what it shows: a wait's reason, large outputs, an unknown stage", () => {
    expect(applyToExecution(execution(), event({ type: "EXECUTION_WAITING", status: "InProgress" }))).toBe(
      REFETCH,
    );
    const succeeded = {
      type: "ACTION_SUCCEEDED",
      stageName: "Build",
      actionName: "Make",
      status: "Succeeded",
    };
    expect(applyToExecution(execution(), event({ ...succeeded, outputVariables: null }))).toBe(REFETCH);
    expect(applyToExecution(execution(), event({ ...succeeded, outputVariables: { V: "1" } }))).not.toBe(
      REFETCH,
    );
    expect(
      applyToExecution(
        execution(),
        event({ type: "STAGE_STARTED", stageName: "Nope", status: "InProgress" }),
      ),
    ).toBe(REFETCH);
  });

  it("writes an approval's decision where the page shows it", () => {
    const gate = { ...execution().stages[0]!.actions[0]!, approval: null as unknown, approvalPending: true };
    const before = { ...execution(), stages: [{ ...execution().stages[0]!, actions: [gate] }] };
    const decision = { approved: true, summary: "ship it", by: "user/ada", at };
    const after = applyToExecution(
      before,
      event({
        type: "APPROVAL_APPROVED",
        stageName: "Build",
        actionName: "Make",
        status: "Succeeded",
        approvalPending: false,
        approval: decision,
      }),
    );
    if (after === REFETCH) throw new Error("refetch");
    expect(after.stages[0]!.actions[0]).toMatchObject({
      approval: decision,
      approvalPending: false,
      status: "Succeeded",
    });
  });

  it("adds an action's output artifacts to the execution's, replacing one of the same name in place", () => {
    const artifacts = [
      { name: "Bin", size: 1, sha256: "a" },
      { name: "Src", size: 2, sha256: "b" },
    ];
    const outputArtifacts = [
      { name: "Bin", size: 3, sha256: "c" },
      { name: "Docs", size: 4, sha256: "d" },
    ];
    expect(withArtifacts(artifacts, event({ type: "ACTION_SUCCEEDED", outputArtifacts }))).toEqual([
      { name: "Bin", size: 3, sha256: "c" },
      { name: "Src", size: 2, sha256: "b" },
      { name: "Docs", size: 4, sha256: "d" },
    ]);
  });
});

describe("applyEvent", () => {
  const live = {
    event: (e: LiveEvent) => e,
    sequences: () => [],
    apply: (data: { n: number }) => ({ n: data.n + 1 }),
  };
  it("applies the next sequence, skips one already in the data, and refetches on a gap", () => {
    const last = new Map([["e1", 10]]);
    const data = { n: 0 };
    expect(applyEvent(live, data, event({ type: "ACTION_STARTED", sequence: 10 }), last)).toBe(data);
    const next = applyEvent(live, data, event({ type: "ACTION_STARTED", sequence: 11 }), last);
    expect(next).toEqual({ n: 1 });
    expect(last.get("e1")).toBe(11);
    expect(applyEvent(live, data, event({ type: "ACTION_STARTED", sequence: 13 }), last)).toBe(REFETCH);
    // Executions the data does not show are the page's to judge.
    expect(
      applyEvent(live, data, event({ type: "ACTION_STARTED", executionId: "e2", sequence: 7 }), last),
    ).toEqual({
      n: 1,
    });
  });
});

describe("the pipeline page", () => {
  function page(): PipelineViewQuery {
    const e = execution();
    return {
      pipeline: {
        id: "p",
        name: "p",
        version: 1,
        executionMode: "SUPERSEDED",
        stages: [],
        state: {
          stages: [
            {
              name: "Build",
              inboundTransition: null,
              latestExecution: { executionId: "e0", status: "Succeeded" },
              waitingExecutions: [
                { executionId: "e1", waitingReason: { code: "STAGE_BUSY", message: "busy", since: at } },
              ],
              actions: [{ name: "Make", latestExecution: null }],
            },
          ],
        },
        executions: {
          nodes: [
            {
              ...e,
              startTime: at,
              currentStage: null,
              waitingReason: null,
              sourceRevisions: [],
              stages: [
                {
                  name: "Build",
                  status: null,
                  actions: [{ ...e.stages[0]!.actions[0]!, waitingReason: null }],
                },
              ],
            },
          ],
        },
      },
    } as unknown as PipelineViewQuery;
  }

  it("moves the stage's pointers and the execution's current stage on STAGE_STARTED", () => {
    const after = PIPELINE_LIVE.apply(
      page(),
      event({ type: "STAGE_STARTED", stageName: "Build", status: "InProgress" }),
    );
    if (after === REFETCH) throw new Error("refetch");
    const stage = after.pipeline!.state.stages[0]!;
    expect(stage.latestExecution).toEqual({ executionId: "e1", status: "InProgress" });
    expect(stage.waitingExecutions).toEqual([]);
    expect(after.pipeline!.executions.nodes[0]).toMatchObject({
      currentStage: { stageName: "Build", entered: true },
      stages: [{ status: "InProgress" }],
    });
  });

  it("makes a queued action the stage's latest run of it", () => {
    const after = PIPELINE_LIVE.apply(
      page(),
      event({
        type: "ACTION_QUEUED",
        stageName: "Build",
        actionName: "Make",
        actionExecutionId: "a2",
        status: "Queued",
        summary: null,
        errorDetails: null,
        approvalPending: false,
      }),
    );
    if (after === REFETCH) throw new Error("refetch");
    expect(after.pipeline!.state.stages[0]!.actions[0]!.latestExecution).toMatchObject({
      actionExecutionId: "a2",
      executionId: "e1",
      status: "Queued",
      lastStatusChange: at,
    });
  });

  it("fetches the page for a new execution, a transition and a definition change", () => {
    expect(
      PIPELINE_LIVE.apply(
        page(),
        event({ type: "EXECUTION_STARTED", executionId: "e9", status: "InProgress" }),
      ),
    ).toBe(REFETCH);
    expect(
      PIPELINE_LIVE.apply(page(), event({ type: "TRANSITION_DISABLED", executionId: null, sequence: null })),
    ).toBe(REFETCH);
    expect(
      PIPELINE_LIVE.apply(page(), event({ type: "PIPELINE_UPDATED", executionId: null, sequence: null })),
    ).toBe(REFETCH);
  });
});
