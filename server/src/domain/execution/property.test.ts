/**
 * Property tests of the state machine: random valid pipelines (every execution mode, approvals,
 * SUPERSEDE_PENDING_APPROVAL stages) under random interleavings of starts, agent results in any
 * order (with duplicates and late ones), approvals, transition toggles, stops of both kinds,
 * retries of both modes and timeouts. After every decision the simulation checks:
 *
 * - SUPERSEDED and QUEUED: no stage ever holds two executions;
 * - no action of runOrder k starts (Dispatch, APPROVAL_NEEDED) before every lower runOrder of its
 *   stage succeeded;
 * - no execution enters a stage while its inbound transition is disabled;
 * - SUPERSEDED and QUEUED: executions enter each stage in start order;
 * - each execution's events carry sequence numbers that grow by exactly one, and a decision's
 *   changedExecutions are exactly the executions it has events for;
 * - every execution waiting at an entry, and every action of a running stage not yet running,
 *   carries a waiting reason;
 * - decide never changes its input, and the runtime is plain JSON;
 *
 * and once every dispatched attempt has a result, every transition is enabled and every approval
 * approved, every execution is final and no timer is left. The same worlds, with decisions written
 * in groups as the engine's group commit writes them, store what writing each in turn stores.
 */
import fc from "fast-check";
import { validPipelineDocument } from "../pipeline/__tests__/arbitraries";
import { command, Simulation } from "./__tests__/simulation";

const RUNS = { numRuns: 200 };

const seen = new Set<string>();
const WANTED = [
  "EXECUTION_WAITING",
  "EXECUTION_SUPERSEDED",
  "EXECUTION_STOPPED",
  "EXECUTION_RESUMED",
  "STAGE_CANCELLED", // SUPERSEDE_PENDING_APPROVAL replaced a holder
  "ACTION_ABANDONED",
  "APPROVAL_REJECTED",
  "APPROVAL_TIMED_OUT",
  "TRANSITION_DISABLED",
];

describe("the execution state machine under random interleavings", () => {
  it("keeps its invariants after every decision, and finishes every execution once the world answers", () => {
    fc.assert(
      fc.property(
        validPipelineDocument(),
        fc.array(command, { minLength: 1, maxLength: 60, size: "max" }),
        (document, commands) => {
          const simulation = new Simulation(document);
          for (const c of commands) simulation.run(c);
          simulation.drain();
          for (const view of simulation.snapshots.values())
            expect(["Stopped", "Succeeded", "Superseded", "Failed"]).toContain(view.status);
          expect([...simulation.timers.keys()]).toEqual([]);
          expect(simulation.snapshots.size).toBe(simulation.started.length);
          simulation.seen.forEach((type) => seen.add(type));
        },
      ),
      RUNS,
    );
    // Not vacuous: the random worlds reached every kind of situation the invariants are about.
    expect([...WANTED].filter((type) => !seen.has(type))).toEqual([]);
  });

  it("stores the same when decisions made in turn are written together (group commit)", () => {
    let merged = 0;
    fc.assert(
      fc.property(
        validPipelineDocument(),
        fc.array(command, { minLength: 1, maxLength: 60, size: "max" }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 5 }),
        (document, commands, batches) => {
          const simulation = new Simulation(document, batches);
          for (const c of commands) simulation.run(c);
          simulation.drain();
          for (const view of simulation.snapshots.values())
            expect(["Stopped", "Succeeded", "Superseded", "Failed"]).toContain(view.status);
          if (batches.some((size) => size > 1)) merged += 1;
        },
      ),
      RUNS,
    );
    expect(merged).toBeGreaterThan(100);
  });
});
