/** The quota "pipeline variables: 50" of PIPELINE-MODEL.md. */
import { MAX_PIPELINE_VARIABLES } from "../../../limits";
import type { ValidationContext } from "../context";

export function variableCountRule(ctx: ValidationContext): void {
  const variables = ctx.document.variables.length;
  if (variables > MAX_PIPELINE_VARIABLES) {
    ctx.report(
      "variables",
      `The pipeline declares ${variables} variables; the limit is ${MAX_PIPELINE_VARIABLES}.`,
      {
        limit: true,
      },
    );
  }
}
