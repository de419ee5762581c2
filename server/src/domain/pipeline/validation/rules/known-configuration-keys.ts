/**
 * Rule 10 of PIPELINE-MODEL.md, second half: unknown configuration keys are an error for built-in
 * (owner Sluice) types. Custom types may receive extra keys: their job workers decide what they
 * read, as in CodePipeline.
 */
import { appendPath, quote } from "../../paths";
import type { ValidationContext } from "../context";
import { describeType, listOf } from "../describe";

export function knownConfigurationKeysRule(ctx: ValidationContext): void {
  for (const { action, path, type } of ctx.actions()) {
    if (!type || type.id.owner !== "Sluice") continue;
    const allowed = type.configurationProperties.map((p) => p.name);
    for (const key of Object.keys(action.configuration)) {
      if (allowed.includes(key)) continue;
      const hint =
        allowed.length > 0 ? `the allowed keys are ${listOf(allowed)}` : "it takes no configuration";
      ctx.report(
        appendPath(`${path}.configuration`, key),
        `Configuration key ${quote(key)} is not a property of ${describeType(type.id)}; ${hint}.`,
      );
    }
  }
}
