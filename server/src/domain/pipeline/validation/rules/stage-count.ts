/**
 * Rule 1 of PIPELINE-MODEL.md: a pipeline has at least 2 stages; and the quota "stages per
 * pipeline: 2–50" (more than 50 is LIMIT_EXCEEDED).
 */
import { MAX_STAGES_PER_PIPELINE, MIN_STAGES_PER_PIPELINE } from "../../../limits";
import { count } from "../describe";
import type { ValidationContext } from "../context";

export function stageCountRule(ctx: ValidationContext): void {
  const stages = ctx.document.stages.length;
  if (stages < MIN_STAGES_PER_PIPELINE) {
    ctx.report(
      "stages",
      `A pipeline needs at least ${MIN_STAGES_PER_PIPELINE} stages (a source stage and one that uses it); this one has ${count(stages, "stage")}.`,
    );
  } else if (stages > MAX_STAGES_PER_PIPELINE) {
    ctx.report(
      "stages",
      `A pipeline has at most ${MAX_STAGES_PER_PIPELINE} stages; this one has ${stages}.`,
      {
        limit: true,
      },
    );
  }
}
