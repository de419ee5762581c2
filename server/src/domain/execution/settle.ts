/**
 * After an event changed something, everything that can move moves, until nothing can: running
 * stages start their next wave or end (run-orders.ts), and stage entries let in who may enter
 * (stage-entry.ts). Then every execution still waiting gets its current waiting reason.
 *
 * Executions are advanced in start order, then entries are admitted, and the two repeat: an
 * execution that finished stage N is at the entry of N+1 before anyone enters N behind it.
 */
import type { Step } from "./events";
import { advance } from "./run-orders";
import { admitStage, refreshWaitingReasons } from "./stage-entry";
import { activeExecutions } from "./state";

/** Each pass starts or ends something, so a few passes per stage and action suffice. */
const MAX_PASSES = 100_000;

export function settle(step: Step): void {
  for (let pass = 0; ; pass++) {
    if (pass > MAX_PASSES) throw new Error("The execution state machine did not settle.");
    let changed = false;
    for (const execution of activeExecutions(step.runtime)) changed = advance(step, execution) || changed;
    for (const stageName of Object.keys(step.runtime.stages))
      changed = admitStage(step, stageName) || changed;
    if (!changed) break;
  }
  refreshWaitingReasons(step);
}
