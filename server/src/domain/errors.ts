/**
 * Domain errors: small typed classes with a stable code. The GraphQL layer maps `code` to
 * `extensions.code`; nothing here knows about GraphQL.
 */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "UNAUTHENTICATED"
  | "CONFLICT"
  | "LIMIT_EXCEEDED"
  | "UNAVAILABLE";

/** One offending field of a document: `stages[1].actions[0].runOrder` and a sentence. */
export interface ValidationIssue {
  path: string;
  message: string;
  /** True when the issue is a quota (a limit of PIPELINE-MODEL.md's quota table). */
  limit?: boolean;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A document (or edit list) that breaks one or more rules; carries every problem at once. */
export class ValidationError extends DomainError {
  constructor(
    readonly issues: ValidationIssue[],
    summary = summarize(issues),
  ) {
    super(issues.length > 0 && issues.every((i) => i.limit) ? "LIMIT_EXCEEDED" : "BAD_USER_INPUT", summary, {
      validationErrors: issues.map(({ path, message }) => ({ path, message })),
    });
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("CONFLICT", message, details);
  }
}

export class LimitExceededError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("LIMIT_EXCEEDED", message, details);
  }
}

function summarize(issues: ValidationIssue[]): string {
  if (issues.length === 0) return "The input is invalid.";
  const first = issues[0]!;
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return `Invalid input: ${first.path ? `${first.path}: ` : ""}${first.message}${more}`;
}
