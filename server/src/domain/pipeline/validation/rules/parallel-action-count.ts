/**
 * The quota "actions in parallel in one stage (same runOrder): 50" of PIPELINE-MODEL.md; rule 7
 * says actions with the same runOrder in a stage run in parallel.
 */
import { MAX_PARALLEL_ACTIONS_PER_STAGE } from "../../../limits";
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function parallelActionCountRule(ctx: ValidationContext): void {
  ctx.document.stages.forEach((stage, i) => {
    const perRunOrder = new Map<number, number>();
    for (const action of stage.actions)
      perRunOrder.set(action.runOrder, (perRunOrder.get(action.runOrder) ?? 0) + 1);
    for (const [runOrder, actions] of perRunOrder) {
      if (actions > MAX_PARALLEL_ACTIONS_PER_STAGE) {
        ctx.report(
          `stages[${i}].actions`,
          `Stage ${quote(stage.name)} runs ${actions} actions in parallel at runOrder ${runOrder}; the limit is ${MAX_PARALLEL_ACTIONS_PER_STAGE}.`,
          { limit: true },
        );
      }
    }
  });
}
