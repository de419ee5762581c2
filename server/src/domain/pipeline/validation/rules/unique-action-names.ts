/** Rule 5 of PIPELINE-MODEL.md: action names are unique in their stage. Reported at each repeat. */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function uniqueActionNamesRule(ctx: ValidationContext): void {
  ctx.document.stages.forEach((stage, i) => {
    const first = new Map<string, number>();
    stage.actions.forEach((action, j) => {
      const earlier = first.get(action.name);
      if (earlier === undefined) first.set(action.name, j);
      else
        ctx.report(
          `stages[${i}].actions[${j}].name`,
          `Action name ${quote(action.name)} is already used by stages[${i}].actions[${earlier}]; action names must be unique in stage ${quote(stage.name)}.`,
        );
    });
  });
}
