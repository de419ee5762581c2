/** What the CLI writes: pretty JSON on stdout, `error: ...` lines on stderr. */
import { CommanderError } from "commander";
import { GraphQLRequestError } from "./client";
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, InterruptedError, UsageError } from "./errors";

export type Writer = (text: string) => void;

/** JSON with 2-space indentation and a trailing newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The stderr text for an error, newline-terminated. A GraphQL error is `error: <message> (<code>)`,
 * followed by one indented `<path>: <message>` line per entry of `extensions.validationErrors`.
 */
export function formatError(err: unknown): string {
  const lines: string[] = [];
  if (err instanceof GraphQLRequestError) {
    for (const entry of err.errors) {
      const code = entry.extensions?.code;
      lines.push(`error: ${entry.message}${code ? ` (${code})` : ""}`);
      const issues = entry.extensions?.validationErrors;
      if (Array.isArray(issues)) {
        for (const issue of issues) lines.push(`  ${formatIssue(issue)}`);
      }
    }
  } else if (hasMessage(err)) {
    lines.push(`error: ${err.message}`);
  } else {
    lines.push(`error: ${String(err)}`);
  }
  return lines.map((l) => `${l}\n`).join("");
}

/** Duck-typed: errors thrown by Node internals may come from another realm (e.g. under jest). */
function hasMessage(err: unknown): err is { message: string } {
  return (
    typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string"
  );
}

function formatIssue(issue: unknown): string {
  if (typeof issue !== "object" || issue === null) return String(issue);
  const { path, message } = issue as { path?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : JSON.stringify(issue);
  return typeof path === "string" && path !== "" ? `${path}: ${text}` : text;
}

/** 2 for usage errors (ours and commander's), 130 for an interrupted wait, 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof InterruptedError) return EXIT_INTERRUPTED;
  return err instanceof UsageError || err instanceof CommanderError ? EXIT_USAGE : EXIT_FAILURE;
}
