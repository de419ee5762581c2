/** Rule 5 of PIPELINE-MODEL.md: stage names are unique in the pipeline. Reported at each repeat. */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function uniqueStageNamesRule(ctx: ValidationContext): void {
  const first = new Map<string, number>();
  ctx.document.stages.forEach((stage, i) => {
    const earlier = first.get(stage.name);
    if (earlier === undefined) first.set(stage.name, i);
    else
      ctx.report(
        `stages[${i}].name`,
        `Stage name ${quote(stage.name)} is already used by stages[${earlier}]; stage names must be unique in the pipeline.`,
      );
  });
}
