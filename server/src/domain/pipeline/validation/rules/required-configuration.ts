/**
 * Rule 10 of PIPELINE-MODEL.md, first half: the required configuration properties of the action
 * type are present. Sluice also rejects a required property that is blank (empty or whitespace):
 * it would fail on the agent, and saying so now is kinder.
 */
import { appendPath, quote } from "../../paths";
import type { ValidationContext } from "../context";
import { describeAction, describeType } from "../describe";

export function requiredConfigurationRule(ctx: ValidationContext): void {
  for (const entry of ctx.actions()) {
    if (!entry.type) continue;
    for (const property of entry.type.configurationProperties) {
      if (!property.required) continue;
      const value = entry.action.configuration[property.name];
      const path = appendPath(`${entry.path}.configuration`, property.name);
      if (value === undefined) {
        ctx.report(
          path,
          `${describeType(entry.type.id)} requires configuration ${quote(property.name)}, which ${describeAction(entry)} does not set.`,
        );
      } else if (value.trim() === "") {
        ctx.report(
          path,
          `Configuration ${quote(property.name)} of ${describeAction(entry)} is blank; ${describeType(entry.type.id)} requires a value.`,
        );
      }
    }
  }
}
