/** Shared option parsing and input shapes for the commands. */
import { InvalidArgumentError } from "commander";
import { isObject } from "./client";
import { UsageError } from "./errors";

/** Commander argument parser for options that take a positive integer. */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("expected a positive integer.");
  }
  return Number(value);
}

/** The input must be a JSON object (a pipeline document, or an AWS CLI style wrapper). */
export function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (!isObject(value)) throw new UsageError(`--cli-input-json must be a JSON object (${what})`);
  return value;
}

/**
 * The pipeline document of a create/update input: either the document itself or, as the AWS CLI
 * accepts, `{ "pipeline": { ... } }` (other top-level keys such as `metadata` are ignored).
 */
export function pipelineDocumentOf(input: unknown): Record<string, unknown> {
  const value = requireObject(input, 'a pipeline document or { "pipeline": { ... } }');
  const isWrapper = "pipeline" in value && !("name" in value) && !("stages" in value);
  if (!isWrapper) return value;
  if (!isObject(value["pipeline"]))
    throw new UsageError(`--cli-input-json: "pipeline" must be a JSON object`);
  return value["pipeline"];
}
