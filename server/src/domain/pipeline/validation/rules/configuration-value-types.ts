/**
 * Configuration values match their property's declared type (PIPELINE-MODEL.md, "Built-in action
 * types": properties are String, Number or Boolean). Values are strings in the document, so a
 * Number property needs a decimal number and a Boolean one "true" or "false". A value holding a
 * `#{...}` reference is only known at dispatch, so it is not checked here. The value of a secret
 * property is never quoted: the message reaches the client and the audit log.
 */
import { appendPath, quote } from "../../paths";
import type { ValidationContext } from "../context";
import { describeType } from "../describe";

const NUMBER = /^-?\d+(\.\d+)?$/;

export function configurationValueTypesRule(ctx: ValidationContext): void {
  for (const { action, path, type } of ctx.actions()) {
    if (!type) continue;
    for (const property of type.configurationProperties) {
      const value = action.configuration[property.name];
      if (value === undefined || value.includes("#{") || value.trim() === "") continue;
      // An encrypted secret restored from the stored version was checked while it was clear.
      if (property.secret && value.startsWith("sluice:enc:v1:")) continue;
      const at = appendPath(`${path}.configuration`, property.name);
      const shown = property.secret ? "the secret value is not" : `the value is ${quote(value)}`;
      if (property.type === "Number" && !NUMBER.test(value)) {
        ctx.report(at, `${property.name} of ${describeType(type.id)} is a number, but ${shown}.`);
      } else if (property.type === "Boolean" && value !== "true" && value !== "false") {
        ctx.report(at, `${property.name} of ${describeType(type.id)} is "true" or "false", but ${shown}.`);
      }
    }
  }
}
