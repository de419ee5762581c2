/**
 * Rule 9 of PIPELINE-MODEL.md: input and output artifact counts stay within the action type's
 * bounds. Having more than a type allows is the quota "input / output artifacts per action"
 * (LIMIT_EXCEEDED) when the type takes some; artifacts on a type that takes none, or too few, are
 * structure errors. Actions of unknown types are left to rule 12.
 */
import type { ArtifactBounds } from "../../../action-types/action-type";
import type { ValidationContext } from "../context";
import { count, describeAction, describeType } from "../describe";

export function artifactCountsRule(ctx: ValidationContext): void {
  for (const entry of ctx.actions()) {
    if (!entry.type) continue;
    const type = describeType(entry.type.id);
    const check = (field: "inputArtifacts" | "outputArtifacts", bounds: ArtifactBounds, noun: string) => {
      const actual = entry.action[field].length;
      const { minimumCount: min, maximumCount: max } = bounds;
      const has = `${describeAction(entry)} has ${actual}`;
      if (actual > max) {
        const takes = max === 0 ? `takes no ${noun}s` : `takes at most ${count(max, noun)}`;
        ctx.report(`${entry.path}.${field}`, `${type} ${takes}, but ${has}.`, max > 0 ? { limit: true } : {});
      } else if (actual < min) {
        ctx.report(`${entry.path}.${field}`, `${type} needs at least ${count(min, noun)}, but ${has}.`);
      }
    };
    check("inputArtifacts", entry.type.inputArtifactDetails, "input artifact");
    check("outputArtifacts", entry.type.outputArtifactDetails, "output artifact");
  }
}
