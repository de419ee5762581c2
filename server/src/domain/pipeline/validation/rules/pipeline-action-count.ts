/** The quota "actions per pipeline: 500" of PIPELINE-MODEL.md. */
import { MAX_ACTIONS_PER_PIPELINE } from "../../../limits";
import type { ValidationContext } from "../context";

export function pipelineActionCountRule(ctx: ValidationContext): void {
  const actions = ctx.actions().length;
  if (actions > MAX_ACTIONS_PER_PIPELINE) {
    ctx.report("stages", `The pipeline has ${actions} actions; the limit is ${MAX_ACTIONS_PER_PIPELINE}.`, {
      limit: true,
    });
  }
}
