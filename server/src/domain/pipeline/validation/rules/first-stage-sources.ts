/**
 * Rule 2 of PIPELINE-MODEL.md: the first stage holds only Source actions. (Its "at least one
 * action" half is rule 6, stage-action-count.ts.)
 */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";
import { withArticle } from "../describe";

export function firstStageSourcesRule(ctx: ValidationContext): void {
  for (const { stageIndex, stage, action, path } of ctx.actions()) {
    if (stageIndex !== 0 || action.actionTypeId.category === "Source") continue;
    ctx.report(
      `${path}.actionTypeId.category`,
      `The first stage (${quote(stage.name)}) may hold only Source actions, but action ${quote(action.name)} is ${withArticle(action.actionTypeId.category)} action; move it to a later stage.`,
    );
  }
}
