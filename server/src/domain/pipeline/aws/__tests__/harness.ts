/**
 * Shared by the AWS interop suites: fixtures, and the import as importPipeline runs it
 * (fromAwsDocument, then validatePipeline with a registry that has the types the import created).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ActionTypeDefinition, ActionTypeRegistry } from "../../../action-types/action-type";
import { createRegistry } from "../../../action-types/builtins";
import type { PipelineDocument } from "../../document";
import { validatePipeline } from "../../validation/validate";
import { fromAwsDocument } from "../import";
import type { AwsImportWarning } from "../warnings";

export const FIXTURES = [
  "v1-codecommit-cloudformation",
  "v2-connection-triggers-conditions",
  "v1-github-s3-lambda",
] as const;

/** A fresh copy of a fixture each call, so no test can change another's input. */
export function fixture(name: (typeof FIXTURES)[number]): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, "fixtures", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
}

export interface Imported {
  /** The JSON fromAwsDocument produced, before validation. */
  json: Record<string, unknown>;
  document: PipelineDocument;
  warnings: AwsImportWarning[];
  customTypes: ActionTypeDefinition[];
}

/** Imports and validates; fails the test with every issue when either step rejects the document. */
export function importValid(input: unknown, custom: readonly ActionTypeDefinition[] = []): Imported {
  const converted = fromAwsDocument(input, createRegistry(custom));
  if (!converted.ok)
    throw new Error(`fromAwsDocument rejected the document:\n${describeIssues(converted.issues)}`);
  const registry: ActionTypeRegistry = createRegistry([...custom, ...converted.customTypes]);
  const validated = validatePipeline(converted.document, registry);
  if (!validated.ok)
    throw new Error(`validatePipeline rejected the import:\n${describeIssues(validated.issues)}`);
  return {
    json: converted.document as Record<string, unknown>,
    document: validated.document,
    warnings: converted.warnings,
    customTypes: converted.customTypes,
  };
}

export function warningPaths(warnings: readonly AwsImportWarning[]): string[] {
  return warnings.map((warning) => warning.path);
}

/** The message of the warning at `path`; fails when there is none, or more than one. */
export function warningAt(warnings: readonly AwsImportWarning[], path: string): string {
  const found = warnings.filter((warning) => warning.path === path);
  if (found.length !== 1)
    throw new Error(
      `expected one warning at ${path}, found ${found.length}: ${JSON.stringify(warnings, null, 2)}`,
    );
  return found[0]!.message;
}

function describeIssues(issues: readonly { path: string; message: string }[]): string {
  return issues.map((issue) => `  ${issue.path || "(root)"}: ${issue.message}`).join("\n");
}
