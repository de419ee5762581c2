/**
 * timeoutInMinutes (PIPELINE-MODEL.md, quotas "manual approval timeout: 7 days" and "default
 * action timeout"): when set, a whole number of minutes from 5 (CodePipeline's minimum) to 7 days
 * for Approval actions, and to 3 days (AWS's longest per-provider timeout) for every other
 * category. See limits.ts for why.
 */
import { MIN_ACTION_TIMEOUT_MINUTES, maxTimeoutInMinutes } from "../../../limits";
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function timeoutRule(ctx: ValidationContext): void {
  for (const { action, path } of ctx.actions()) {
    const timeout = action.timeoutInMinutes;
    if (timeout === null) continue;
    const max = maxTimeoutInMinutes(action.actionTypeId.category);
    if (Number.isInteger(timeout) && timeout >= MIN_ACTION_TIMEOUT_MINUTES && timeout <= max) continue;
    ctx.report(
      `${path}.timeoutInMinutes`,
      `timeoutInMinutes of action ${quote(action.name)} must be a whole number from ${MIN_ACTION_TIMEOUT_MINUTES} to ${max} (${max / 1440} days) for ${action.actionTypeId.category} actions; it is ${timeout}.`,
    );
  }
}
