/**
 * The global `--output` formats and `--query`, as the AWS CLI applies them: the JMESPath expression
 * first, on the whole result (including a `NextToken`), then the format.
 */
import * as jmespath from "jmespath";
import { stringify } from "yaml";
import { UsageError } from "../errors";
import { formatJson } from "../output";
import { formatTable } from "./table";
import { formatText } from "./text";

export const OUTPUT_FORMATS = ["json", "text", "table", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Applies a JMESPath `--query`; a malformed expression is a usage error. */
export function applyQuery(value: unknown, query: string | undefined): unknown {
  if (query === undefined) return value;
  try {
    // JMESPath works on JSON values: undefined fields (never sent by the API) must not reach it.
    return jmespath.search(JSON.parse(JSON.stringify(value ?? null)) as unknown, query);
  } catch (err) {
    throw new UsageError(`invalid --query ${JSON.stringify(query)}: ${(err as Error).message}`);
  }
}

/** Checks a `--query` before anything is sent (the AWS CLI rejects it at parse time too). */
export function checkQuery(query: string | undefined): void {
  if (query === undefined) return;
  try {
    (jmespath as unknown as { compile(expression: string): unknown }).compile(query);
  } catch (err) {
    throw new UsageError(`invalid --query ${JSON.stringify(query)}: ${(err as Error).message}`);
  }
}

/** `title` is the table's: the command's operation name, e.g. ListPipelineExecutions. */
export function formatOutput(value: unknown, format: OutputFormat, title: string): string {
  switch (format) {
    case "json":
      return formatJson(value);
    case "text":
      return formatText(value);
    case "table":
      return formatTable(value, title);
    case "yaml":
      return stringify(value ?? null);
  }
}

/** The AWS operation name of a command: list-pipeline-executions → ListPipelineExecutions. */
export function operationName(command: string): string {
  return command
    .split("-")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
}
