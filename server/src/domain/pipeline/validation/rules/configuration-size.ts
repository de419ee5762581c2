/**
 * Configuration sizes (PIPELINE-MODEL.md, "The document"): keys are 1–50 characters, values at
 * most 1000 characters.
 */
import { MAX_CONFIGURATION_KEY_LENGTH, MAX_CONFIGURATION_VALUE_LENGTH } from "../../../limits";
import { appendPath, quote } from "../../paths";
import type { ValidationContext } from "../context";

/** The envelope of an encrypted secret value (persistence/secret-vault.ts, protocol ENVELOPE_PREFIX). */
const ENCRYPTED_PREFIX = "sluice:enc:v1:";

export function configurationSizeRule(ctx: ValidationContext): void {
  for (const { action, path } of ctx.actions()) {
    for (const [key, value] of Object.entries(action.configuration)) {
      const at = appendPath(`${path}.configuration`, key);
      if (key.length === 0 || key.length > MAX_CONFIGURATION_KEY_LENGTH) {
        ctx.report(
          at,
          `Configuration key ${quote(key)} is ${key.length} characters long; keys are 1 to ${MAX_CONFIGURATION_KEY_LENGTH} characters.`,
        );
      }
      // An encrypted secret restored from the stored version was checked while it was clear.
      if (value.length > MAX_CONFIGURATION_VALUE_LENGTH && !value.startsWith(ENCRYPTED_PREFIX)) {
        ctx.report(
          at,
          `The value of configuration key ${quote(key)} is ${value.length} characters long; the limit is ${MAX_CONFIGURATION_VALUE_LENGTH}.`,
        );
      }
    }
  }
}
