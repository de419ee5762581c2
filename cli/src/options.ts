/** Shared option parsing and input shapes for the commands. */
import { InvalidArgumentError, Option, type Command } from "commander";
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

/** The statuses of a pipeline execution. */
export const EXECUTION_STATUSES = [
  "InProgress",
  "Stopping",
  "Stopped",
  "Succeeded",
  "Superseded",
  "Failed",
  "Cancelled",
] as const;

/** The longest `--timeout` in seconds: Node's timers hold at most 2^31-1 ms. */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/** Commander argument parser for `--timeout`: whole seconds, 1 to MAX_TIMEOUT_SECONDS. */
export function timeoutSeconds(value: string): number {
  const seconds = positiveInt(value);
  if (seconds > MAX_TIMEOUT_SECONDS) {
    throw new InvalidArgumentError(`expected at most ${MAX_TIMEOUT_SECONDS} seconds.`);
  }
  return seconds;
}

/**
 * Commander argument parser for a repeatable `Key=Value` option (the value may be empty and may
 * contain `=`): collects the pairs in the order given.
 */
export function keyValuePairs(shape: string) {
  return (value: string, previous: [string, string][] | undefined): [string, string][] => {
    const at = value.indexOf("=");
    if (at <= 0) throw new InvalidArgumentError(`expected ${shape}.`);
    return [...(previous ?? []), [value.slice(0, at), value.slice(at + 1)]];
  };
}

/** The pairs as they are, or a UsageError naming the first key given twice. */
export function uniqueKeys(pairs: [string, string][], option: string): [string, string][] {
  const seen = new Set<string>();
  for (const [key] of pairs) {
    if (seen.has(key)) throw new UsageError(`${option} ${key} is given more than once`);
    seen.add(key);
  }
  return pairs;
}

/** Commander argument parser for a repeatable `--status`: collects known execution statuses. */
export function executionStatuses(value: string, previous: string[] | undefined): string[] {
  if (!(EXECUTION_STATUSES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${EXECUTION_STATUSES.join(", ")}.`);
  }
  return [...(previous ?? []), value];
}

/**
 * `aws codepipeline` spells some options differently, e.g. `--pipeline-name` where we have `--name`.
 * The commands accept the AWS name too, as a hidden option (our option's help ends with
 * `alsoAwsName(...)`), and read the value with `eitherName()` or `requiredEitherName()`.
 */
export function awsName(flags: string): Option {
  return new Option(flags, "the AWS CLI's name of an option").hideHelp();
}

/** The end of the help text of an option that has an AWS name: "(also --pipeline-name)". */
export function alsoAwsName(theirs: string): string {
  return `(also ${theirs})`;
}

/** For the AWS CLI's `--pipeline-name` where the execution id already identifies the execution. */
export const UNCHECKED_PIPELINE_NAME =
  "accepted for AWS CLI compatibility; not checked (the execution id identifies the execution)";

/**
 * The value given as our option `ours` or as its AWS name `theirs` (long flags, e.g. "--name" and
 * "--pipeline-name"), undefined when neither is given. Both given with different values is a
 * UsageError naming both.
 */
export function eitherName(command: Command, ours: string, theirs: string): string | undefined {
  const our = optionValue(command, ours);
  const their = optionValue(command, theirs);
  if (our !== undefined && their !== undefined && our !== their) {
    throw new UsageError(
      `${ours} ${JSON.stringify(our)} and ${theirs} ${JSON.stringify(their)} disagree; give one of them`,
    );
  }
  return our ?? their;
}

/** `eitherName()` for a required option: a UsageError when neither name is given. */
export function requiredEitherName(command: Command, ours: string, theirs: string): string {
  const value = eitherName(command, ours, theirs);
  if (value === undefined) {
    throw new UsageError(`required option '${findOption(command, ours).flags}' (or ${theirs}) not specified`);
  }
  return value;
}

function findOption(command: Command, long: string): Option {
  const option = command.options.find((o) => o.long === long);
  if (!option) throw new Error(`${command.name()} has no option ${long}`);
  return option;
}

function optionValue(command: Command, long: string): string | undefined {
  return command.getOptionValue(findOption(command, long).attributeName()) as string | undefined;
}
