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
import { restoreMaskedSecrets } from "../secrets";
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
  return issues.length === 0 ? { ok: true, document } : { ok: false, issues: orderIssues(issues) };
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
