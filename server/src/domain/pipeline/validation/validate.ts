/**
 * validatePipeline: untrusted JSON → a valid PipelineDocument, or every problem at once. First the
 * shape (parse.ts); when the shape is right, every rule of rules/index.ts runs on the parsed
 * document. Issues come back deduplicated and in document order.
 */
import type { ActionTypeRegistry } from "../../action-types/action-type";
import type { ValidationIssue } from "../../errors";
import type { PipelineDocument } from "../document";
import { orderIssues } from "../issue-order";
import { readPipelineDocument } from "../parse";
import { restoreMaskedSecrets, SECRET_MASK, secretProperties } from "../secrets";
import { ValidationContext, type ValidationRule } from "./context";
import { specifiedRules } from "./rules";

export interface ValidateOptions {
  rules?: readonly ValidationRule[];
  /**
   * The version the document replaces: its secret values stand behind the masks the API showed
   * (secrets.ts). null or absent for a new pipeline.
   */
  previous?: PipelineDocument | null;
}

export function validatePipeline(
  input: unknown,
  registry: ActionTypeRegistry,
  { rules = specifiedRules, previous = null }: ValidateOptions = {},
): { ok: true; document: PipelineDocument } | { ok: false; issues: ValidationIssue[] } {
  const read = readPipelineDocument(input);
  const shapeIssues = read.issues;
  if (read.document === undefined) return { ok: false, issues: shapeIssues };
  const document = restoreMaskedSecrets(read.document, previous, registry);
  const issues = [...shapeIssues, ...validateDocument(document, registry, rules)];
  return issues.length === 0
    ? { ok: true, document }
    : { ok: false, issues: withoutSecretValues(orderIssues(issues), document, registry) };
}

/** Secrets shorter than this are not searched for in messages (too likely to match other text). */
const MIN_REDACTED_LENGTH = 4;

/**
 * The rules do not quote secret values; this makes sure of it for any rule, now or later: a
 * message that holds the value of a property declared secret (whole, JSON-escaped, or cut as
 * `quote` cuts it) shows the mask instead. Messages reach the client and the audit log.
 */
function withoutSecretValues(
  issues: ValidationIssue[],
  document: PipelineDocument,
  registry: ActionTypeRegistry,
): ValidationIssue[] {
  const values = new Set<string>();
  for (const stage of document.stages) {
    for (const action of stage.actions) {
      for (const name of secretProperties(registry.find(action.actionTypeId))) {
        const value = action.configuration[name];
        if (value === undefined || value === SECRET_MASK || value.length < MIN_REDACTED_LENGTH) continue;
        values.add(value);
        values.add(JSON.stringify(value).slice(1, -1));
        values.add(JSON.stringify(value.slice(0, 60)).slice(1, -1));
      }
    }
  }
  if (values.size === 0) return issues;
  const longestFirst = [...values].sort((a, b) => b.length - a.length);
  return issues.map((issue) => {
    let message = issue.message;
    for (const value of longestFirst) message = message.split(value).join(SECRET_MASK);
    return message === issue.message ? issue : { ...issue, message };
  });
}

/** Runs the rules on an already parsed document; returns the issues in document order. */
export function validateDocument(
  document: PipelineDocument,
  registry: ActionTypeRegistry,
  rules: readonly ValidationRule[] = specifiedRules,
): ValidationIssue[] {
  const ctx = new ValidationContext(document, registry);
  for (const rule of rules) rule(ctx);
  return orderIssues(ctx.issues);
}
