/**
 * Rule 7 of PIPELINE-MODEL.md: runOrder is an integer from 1 to 999 (no zero, negatives,
 * fractions). Gaps between values are allowed.
 */
import { MAX_RUN_ORDER, MIN_RUN_ORDER } from "../../../limits";
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function runOrderRule(ctx: ValidationContext): void {
  for (const { action, path } of ctx.actions()) {
    const { runOrder } = action;
    if (Number.isInteger(runOrder) && runOrder >= MIN_RUN_ORDER && runOrder <= MAX_RUN_ORDER) continue;
    ctx.report(
      `${path}.runOrder`,
      `runOrder must be an integer from ${MIN_RUN_ORDER} to ${MAX_RUN_ORDER}; action ${quote(action.name)} has ${runOrder}.`,
    );
  }
}
