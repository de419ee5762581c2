/**
 * Sluice: a secret configuration value that is still the mask the API shows in its place
 * (secrets.ts) had no stored value to stand for: the action is new, was renamed or moved to
 * another stage, or the document was copied or imported from an export. Storing `****` as the
 * secret would break the action at run time; saying so now is kinder.
 */
import { appendPath, quote } from "../../paths";
import { SECRET_MASK, secretProperties } from "../../secrets";
import type { ValidationContext } from "../context";
import { describeAction } from "../describe";

export function maskedSecretsRule(ctx: ValidationContext): void {
  for (const entry of ctx.actions()) {
    const secrets = secretProperties(entry.type);
    for (const name of secrets) {
      if (entry.action.configuration[name] !== SECRET_MASK) continue;
      ctx.report(
        appendPath(`${entry.path}.configuration`, name),
        `Configuration ${quote(name)} of ${describeAction(entry)} is a secret shown as ${quote(SECRET_MASK)}, and no stored value stands behind it here (a new, renamed, copied or imported action): enter the secret itself.`,
      );
    }
  }
}
