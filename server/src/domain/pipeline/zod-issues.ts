/**
 * Turns zod's issues into ValidationIssues: a path in the `stages[1].actions[0].runOrder` form and
 * a sentence a person understands, naming the offending value. Zod's own messages are not shown.
 */
import type { z } from "zod";
import type { ValidationIssue } from "../errors";
import { formatPath, quote, type PathSegment } from "./paths";

type ZodIssue = z.core.$ZodIssue;

/** Fields whose expected value says more than "a number". */
const FIELD_EXPECTATIONS: Record<string, string> = {
  runOrder: "an integer from 1 to 999",
  timeoutInMinutes: "a whole number of minutes",
};

const TYPE_EXPECTATIONS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  record: "an object",
};

export function fromZodIssues(
  issues: readonly ZodIssue[],
  prefix: readonly PathSegment[] = [],
): ValidationIssue[] {
  return issues.flatMap((issue) => {
    const segments = [...prefix, ...issue.path.map(toSegment)];
    if (issue.code === "unrecognized_keys") {
      // One issue per key, at the key's own path, so a UI can underline it.
      return issue.keys.map((key) => ({
        path: formatPath([...segments, key]),
        message: `Unknown key ${quote(key)}. ${issue.message}`,
      }));
    }
    return [{ path: formatPath(segments), message: messageFor(issue, segments) }];
  });
}

function messageFor(issue: ZodIssue, segments: readonly PathSegment[]): string {
  const label = labelOf(segments);
  // Whether a configuration property is secret is not known while the shape is read: no
  // configuration value is quoted here (it would reach the client and the audit log).
  if (isConfigurationValue(segments)) {
    return issue.code === "invalid_type" && issue.input === undefined
      ? `${label} is required.`
      : `${label} must be a string.`;
  }
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return `${label} is required.`;
      const lastKey = segments.findLast((s): s is string => typeof s === "string") ?? "";
      const expected =
        FIELD_EXPECTATIONS[lastKey] ?? TYPE_EXPECTATIONS[issue.expected] ?? `of type ${issue.expected}`;
      return `${label} must be ${expected}; got ${describeValue(issue.input)}.`;
    }
    case "invalid_value": {
      const options = issue.values.map((v) => (typeof v === "string" ? v : String(v)));
      const expected = options.length === 1 ? `"${options[0]}"` : `one of ${options.join(", ")}`;
      return `${label} must be ${expected}; got ${describeValue(issue.input)}.`;
    }
    default:
      return `${label} is not valid (${describeValue(issue.input)}): ${issue.message}.`;
  }
}

/**
 * How a message names the field: its last key and any indices after it ("runOrder",
 * "inputArtifacts[0]"), or for a configuration entry "The value of configuration key "X"".
 */
function labelOf(segments: readonly PathSegment[]): string {
  const lastKeyIndex = segments.findLastIndex((s) => typeof s === "string");
  if (lastKeyIndex < 0) return segments.length === 0 ? "The pipeline document" : formatPath(segments);
  const key = segments[lastKeyIndex] as string;
  if (isConfigurationValue(segments)) return `The value of configuration key ${quote(key)}`;
  return formatPath(segments.slice(lastKeyIndex));
}

/** `…configuration.<key>`: a value of an action's configuration. */
function isConfigurationValue(segments: readonly PathSegment[]): boolean {
  const last = segments.length - 1;
  return last > 0 && typeof segments[last] === "string" && segments[last - 1] === "configuration";
}

export function describeValue(value: unknown): string {
  if (typeof value === "string") return quote(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return String(value);
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === "number" ? key : String(key);
}
