/**
 * Sluice: an action lists each input artifact once. The job an agent gets carries the action's
 * inputs by name, and agents refuse a job that names one twice (PROTOCOL.md 5.1): such an
 * action would never run.
 */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";
import { describeAction } from "../describe";

export function uniqueInputArtifactsRule(ctx: ValidationContext): void {
  for (const entry of ctx.actions()) {
    const seen = new Set<string>();
    entry.action.inputArtifacts.forEach(({ name }, k) => {
      if (seen.has(name)) {
        ctx.report(
          `${entry.path}.inputArtifacts[${k}].name`,
          `Input artifact ${quote(name)} is listed twice by ${describeAction(entry)}; list each input artifact once.`,
        );
      }
      seen.add(name);
    });
  }
}
