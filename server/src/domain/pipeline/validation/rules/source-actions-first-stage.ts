/** Rule 3 of PIPELINE-MODEL.md: no stage but the first holds a Source action. */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function sourceActionsFirstStageRule(ctx: ValidationContext): void {
  const first = ctx.document.stages[0];
  for (const { stageIndex, stage, action, path } of ctx.actions()) {
    if (stageIndex === 0 || action.actionTypeId.category !== "Source") continue;
    ctx.report(
      `${path}.actionTypeId.category`,
      `Source action ${quote(action.name)} is in stage ${quote(stage.name)}; Source actions belong in the first stage${first ? ` (${quote(first.name)})` : ""}.`,
    );
  }
}
