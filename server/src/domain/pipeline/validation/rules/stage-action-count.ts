/**
 * Rule 6 of PIPELINE-MODEL.md: every stage has at least one action (for the first stage this is
 * also rule 2's "at least one action"); and the quota "actions per stage: 1–50".
 */
import { MAX_ACTIONS_PER_STAGE, MIN_ACTIONS_PER_STAGE } from "../../../limits";
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function stageActionCountRule(ctx: ValidationContext): void {
  ctx.document.stages.forEach((stage, i) => {
    const actions = stage.actions.length;
    if (actions < MIN_ACTIONS_PER_STAGE) {
      ctx.report(
        `stages[${i}].actions`,
        `Stage ${quote(stage.name)} has no actions; every stage needs at least one.`,
      );
    } else if (actions > MAX_ACTIONS_PER_STAGE) {
      ctx.report(
        `stages[${i}].actions`,
        `Stage ${quote(stage.name)} has ${actions} actions; the limit is ${MAX_ACTIONS_PER_STAGE} per stage.`,
        { limit: true },
      );
    }
  });
}
