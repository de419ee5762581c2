/**
 * Rule 4 of PIPELINE-MODEL.md: at least one stage holds an action that is not a Source action.
 * It follows from rules 1–3 when those hold; reported here (only for pipelines that have the 2
 * stages of rule 1) so that a pipeline of nothing but sources gets one plain sentence saying so.
 */
import { MIN_STAGES_PER_PIPELINE } from "../../../limits";
import type { ValidationContext } from "../context";

export function nonSourceActionRule(ctx: ValidationContext): void {
  if (ctx.document.stages.length < MIN_STAGES_PER_PIPELINE) return;
  if (ctx.actions().some(({ action }) => action.actionTypeId.category !== "Source")) return;
  ctx.report(
    "stages",
    "The pipeline has only Source actions; at least one stage after the first needs an action that uses the source (Build, Test, Deploy, Approval or Invoke).",
  );
}
