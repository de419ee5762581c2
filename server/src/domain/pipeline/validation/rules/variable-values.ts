/**
 * Sluice: a pipeline variable's default value is at most 1000 characters, the longest value a job
 * carries (PROTOCOL.md 5.1, `context.variables`); agents refuse a longer one, so every action of
 * the pipeline would wait until its timeout.
 */
import { MAX_VARIABLE_VALUE_LENGTH } from "../../../limits";
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

export function variableValuesRule(ctx: ValidationContext): void {
  ctx.document.variables.forEach((variable, i) => {
    const value = variable.defaultValue;
    if (value !== null && value.length > MAX_VARIABLE_VALUE_LENGTH) {
      ctx.report(
        `variables[${i}].defaultValue`,
        `The default value of variable ${quote(variable.name)} is ${value.length} characters long; the limit is ${MAX_VARIABLE_VALUE_LENGTH}.`,
      );
    }
  });
}
