/**
 * Pipeline variable names are unique (PIPELINE-MODEL.md, "Variables": `#{variables.Name}` must
 * name one variable). Reported at each repeat.
 */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function uniqueVariableNamesRule(ctx: ValidationContext): void {
  const first = new Map<string, number>();
  ctx.document.variables.forEach((variable, i) => {
    const earlier = first.get(variable.name);
    if (earlier === undefined) first.set(variable.name, i);
    else
      ctx.report(
        `variables[${i}].name`,
        `Variable name ${quote(variable.name)} is already declared by variables[${earlier}]; variable names must be unique.`,
      );
  });
}
