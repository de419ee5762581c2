/**
 * retryPolicy (a Sluice addition): 1–10 attempts in all, a backoff of 0 s to 1 hour, at least one
 * condition, none repeated. A manual approval cannot retry: nothing runs that could fail again.
 */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export const MAX_RETRY_ATTEMPTS = 10;
export const MAX_RETRY_BACKOFF_SECONDS = 3600;

export function retryPolicyRule(ctx: ValidationContext): void {
  for (const { action, path } of ctx.actions()) {
    const policy = action.retryPolicy;
    if (policy === null) continue;
    const at = `${path}.retryPolicy`;
    const name = quote(action.name);
    if (action.actionTypeId.category === "Approval") {
      ctx.report(at, `Approval action ${name} cannot have a retryPolicy: a decision is not retried.`);
      continue;
    }
    const { maxAttempts, backoffSeconds, on } = policy;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_RETRY_ATTEMPTS) {
      ctx.report(
        `${at}.maxAttempts`,
        `retryPolicy.maxAttempts of action ${name} must be a whole number from 1 to ${MAX_RETRY_ATTEMPTS} (the first attempt included); it is ${maxAttempts}.`,
      );
    }
    if (
      !Number.isInteger(backoffSeconds) ||
      backoffSeconds < 0 ||
      backoffSeconds > MAX_RETRY_BACKOFF_SECONDS
    ) {
      ctx.report(
        `${at}.backoffSeconds`,
        `retryPolicy.backoffSeconds of action ${name} must be a whole number from 0 to ${MAX_RETRY_BACKOFF_SECONDS}; it is ${backoffSeconds}.`,
      );
    }
    if (on.length === 0) {
      ctx.report(
        `${at}.on`,
        `retryPolicy.on of action ${name} must name at least one of AGENT_LOST, FAILED, TIMED_OUT.`,
      );
    }
    on.forEach((condition, index) => {
      if (on.indexOf(condition) !== index) {
        ctx.report(`${at}.on[${index}]`, `retryPolicy.on of action ${name} names ${condition} twice.`);
      }
    });
  }
}
