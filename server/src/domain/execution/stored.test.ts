/**
 * The stored runtime (stored.ts): the coordination record and execution records, their codecs,
 * and the upcast of version 1 (the whole runtime in one value). The property tests store and read
 * back the runtime after every decision (__tests__/simulation.ts); these are the cases by name.
 */
import { build, Machine, pipeline, source, stage } from "./__tests__/harness";
import {
  copyRuntime,
  decodeCoordination,
  decodeExecution,
  joinRuntime,
  runtimeChanges,
  splitRuntime,
  StoredRuntimeError,
} from "./stored";
import type { PipelineRuntime } from "./types";

function twoRunning(): Machine {
  const m = new Machine(pipeline("PARALLEL", stage("Source", source()), stage("Build", build("Compile"))));
  m.start("e1");
  m.start("e2");
  return m;
}

describe("the stored runtime", () => {
  it("splits into a coordination record without executions and execution records without documents, and joins back", () => {
    const m = twoRunning();
    const { coordination, executions } = splitRuntime(m.runtime);
    expect(coordination).toMatchObject({ schemaVersion: 2, pipelineName: m.runtime.pipelineName });
    expect(coordination).not.toHaveProperty("executions");
    expect(executions.map((e) => e.executionId).sort()).toEqual(["e1", "e2"]);
    for (const record of executions) {
      expect(record).not.toHaveProperty("document");
      expect(record.schemaVersion).toBe(2);
    }
    const stored = JSON.parse(JSON.stringify({ coordination, executions })) as {
      coordination: unknown;
      executions: unknown[];
    };
    const back = joinRuntime(
      decodeCoordination(stored.coordination),
      stored.executions.map(decodeExecution),
      () => m.document,
    );
    expect(back).toEqual(m.runtime);
  });

  it("reads a version 1 runtime (one value, each execution with its document) as version 2", () => {
    const m = twoRunning();
    const version1 = JSON.parse(JSON.stringify(m.runtime)) as PipelineRuntime;
    expect(version1.executions.e1!.document).toBeDefined();
    const coordination = decodeCoordination(version1);
    expect(coordination.schemaVersion).toBe(2);
    expect(coordination).not.toHaveProperty("executions");
    const record = decodeExecution(version1.executions.e1);
    expect(record).not.toHaveProperty("document");
    expect(record.schemaVersion).toBe(2);
    expect(
      joinRuntime(coordination, [record, decodeExecution(version1.executions.e2)], () => m.document),
    ).toEqual(m.runtime);
  });

  it("refuses a record of the wrong shape with the path of the field", () => {
    const m = twoRunning();
    const record = JSON.parse(JSON.stringify(splitRuntime(m.runtime).executions[0])) as Record<
      string,
      unknown
    >;
    (record.stages as Array<Record<string, unknown>>)[0]!.actions = "none";
    expect(() => decodeExecution(record)).toThrow(StoredRuntimeError);
    expect(() => decodeExecution(record)).toThrow(/stages\.0\.actions/);
    expect(() => decodeCoordination({ schemaVersion: 3 })).toThrow(/schemaVersion/);
  });

  it("writes only the executions a decision changed, and clears the ones the runtime let go of", () => {
    const m = new Machine(
      pipeline("SUPERSEDED", stage("Source", source()), stage("Build", build("Compile"))),
    );
    m.start("e1");
    m.succeed("e1", "Checkout");
    m.start("e2");
    const before = m.runtime;
    const decision = m.succeed("e1", "Compile");
    const changes = runtimeChanges(before, decision);
    expect([...changes.records.keys()]).toEqual(
      decision.changedExecutions.filter((id) => id in decision.runtime.executions),
    );
    expect(changes.records.has("e1")).toBe(true);
    // e1 finished; when e2 enters Build no stage points at e1 any more, and the runtime lets it go.
    const beforeEntry = m.runtime;
    const entry = m.succeed("e2", "Checkout");
    expect(runtimeChanges(beforeEntry, entry).forgotten).toEqual(["e1"]);
    expect(entry.runtime.executions.e1).toBeUndefined();
    expect(entry.changedExecutions).not.toContain("e1");
  });

  it("copies the runtime for decide but shares the pinned documents", () => {
    const m = twoRunning();
    const copy = copyRuntime(m.runtime);
    expect(copy).toEqual(m.runtime);
    expect(copy.executions.e1!.document).toBe(m.runtime.executions.e1!.document);
    copy.executions.e1!.stages[0]!.status = "Failed";
    copy.stages.Source!.inside.push("x");
    expect(m.runtime.executions.e1!.stages[0]!.status).not.toBe("Failed");
    expect(m.runtime.stages.Source!.inside).not.toContain("x");
  });
});
