/**
 * validatePolicy: untrusted JSON → a normalized PolicyDocument, or every problem at once, each with
 * the path of the offending field in the pipeline document's form (`Statement[1].Action[0]`).
 * Each statement is checked on its own, so a broken statement does not hide the others' problems.
 */
import type { z } from "zod";
import type { ValidationIssue } from "../errors";
import { formatPath, quote, type PathSegment } from "../pipeline/paths";
import { describeValue } from "../pipeline/zod-issues";
import { actionPatternProblem } from "./action-pattern";
import {
  MAX_POLICY_DOCUMENT_CHARS,
  POLICY_VERSION,
  type PolicyDocument,
  type PolicyStatement,
} from "./document";
import { resourcePatternProblem } from "./resource-pattern";
import { policyEnvelopeSchema, statementSchema, type RawStatement } from "./schema";

export type PolicyValidation =
  { ok: true; document: PolicyDocument } | { ok: false; issues: ValidationIssue[] };

const STATEMENT_KEYS = "Sid, Effect, Action or NotAction, Resource or NotResource";
const SID = /^[A-Za-z0-9]*$/;

export function validatePolicy(input: unknown): PolicyValidation {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return {
      ok: false,
      issues: [{ path: "", message: `A policy must be a JSON object; got ${describeValue(input)}.` }],
    };
  }
  const issues: ValidationIssue[] = sizeIssues(input);
  const envelope = policyEnvelopeSchema.safeParse(input, { reportInput: true });
  if (!envelope.success) issues.push(...fromZod(envelope.error, [], "Version, Id and Statement"));
  const raw = (input as { Statement?: unknown }).Statement;
  const single = typeof raw === "object" && raw !== null && !Array.isArray(raw);
  const list: unknown[] = Array.isArray(raw) ? raw : single ? [raw] : [];
  if (raw === undefined) issues.push({ path: "Statement", message: "Statement is required." });
  else if (Array.isArray(raw) && raw.length === 0) {
    issues.push({ path: "Statement", message: "Statement must hold at least one statement." });
  } else if (!single && !Array.isArray(raw)) {
    const message = `Statement must be a statement (an object) or a list of them; got ${describeValue(raw)}.`;
    issues.push({ path: "Statement", message });
  }
  const statements: PolicyStatement[] = [];
  const sids = new Map<string, string>();
  list.forEach((value, index) => {
    const at: PathSegment[] = single ? ["Statement"] : ["Statement", index];
    // Sids are compared even when a statement's shape is wrong, so that no problem hides another.
    const sidIssues = duplicateSid(value, at, sids);
    const parsed = statementSchema.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      issues.push(...fromZod(parsed.error, at, STATEMENT_KEYS), ...sidIssues);
      return;
    }
    const problems = [...statementIssues(parsed.data, at), ...sidIssues];
    issues.push(...problems);
    if (problems.length === 0) statements.push(normalize(parsed.data));
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, document: { Version: POLICY_VERSION, Statement: statements } };
}

function duplicateSid(statement: unknown, at: PathSegment[], seen: Map<string, string>): ValidationIssue[] {
  const sid =
    typeof statement === "object" && statement !== null ? (statement as { Sid?: unknown }).Sid : undefined;
  if (typeof sid !== "string" || sid === "") return [];
  const first = seen.get(sid);
  if (first === undefined) {
    seen.set(sid, formatPath(at));
    return [];
  }
  const message = `Sid ${quote(sid)} is already the Sid of ${first}; Sids are unique within a policy.`;
  return [{ path: formatPath([...at, "Sid"]), message }];
}

/** The rules a well-shaped statement must also follow. */
function statementIssues(statement: RawStatement, at: PathSegment[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const issue = (segments: PathSegment[], message: string) =>
    issues.push({ path: formatPath([...at, ...segments]), message });
  if (statement.Sid !== undefined && !SID.test(statement.Sid)) {
    issue(["Sid"], `Sid has only letters and digits; got ${quote(statement.Sid)}.`);
  }
  if (statement.Condition !== undefined) {
    issue(
      ["Condition"],
      "Condition is not supported yet: remove it (a statement is never applied without its conditions).",
    );
  }
  exactlyOne(statement, "Action", "NotAction", issue);
  exactlyOne(statement, "Resource", "NotResource", issue);
  for (const key of ["Action", "NotAction"] as const) {
    eachPattern(
      statement[key],
      (pattern, segments) => {
        const problem = actionPatternProblem(pattern);
        if (problem) issue([key, ...segments], problem);
      },
      () => issue([key], `${key} must name at least one action.`),
    );
  }
  for (const key of ["Resource", "NotResource"] as const) {
    eachPattern(
      statement[key],
      (pattern, segments) => {
        const problem = resourcePatternProblem(pattern);
        if (problem) issue([key, ...segments], problem);
      },
      () => issue([key], `${key} must name at least one resource.`),
    );
  }
  return issues;
}

function exactlyOne(
  statement: RawStatement,
  a: "Action" | "Resource",
  notA: "NotAction" | "NotResource",
  issue: (segments: PathSegment[], message: string) => void,
): void {
  if (statement[a] !== undefined && statement[notA] !== undefined) {
    issue([notA], `A statement has ${a} or ${notA}, not both.`);
  } else if (statement[a] === undefined && statement[notA] === undefined) {
    issue([], `A statement needs ${a} or ${notA}.`);
  }
}

function eachPattern(
  value: string | string[] | undefined,
  check: (pattern: string, segments: PathSegment[]) => void,
  empty: () => void,
): void {
  if (value === undefined) return;
  if (typeof value === "string") return check(value, []);
  if (value.length === 0) return empty();
  value.forEach((pattern, i) => check(pattern, [i]));
}

function normalize(raw: RawStatement): PolicyStatement {
  const list = (v: string | string[] | undefined) =>
    v === undefined ? undefined : typeof v === "string" ? [v] : v;
  const statement: PolicyStatement = { Effect: raw.Effect };
  if (raw.Sid !== undefined && raw.Sid !== "") statement.Sid = raw.Sid;
  if (raw.Action !== undefined) statement.Action = list(raw.Action);
  if (raw.NotAction !== undefined) statement.NotAction = list(raw.NotAction);
  if (raw.Resource !== undefined) statement.Resource = list(raw.Resource);
  if (raw.NotResource !== undefined) statement.NotResource = list(raw.NotResource);
  return statement;
}

function sizeIssues(input: object): ValidationIssue[] {
  const size = JSON.stringify(input).length;
  if (size <= MAX_POLICY_DOCUMENT_CHARS) return [];
  const message = `A policy is at most ${MAX_POLICY_DOCUMENT_CHARS.toLocaleString("en")} characters of compact JSON; this one has ${size.toLocaleString("en")}.`;
  return [{ path: "", message, limit: true }];
}

/** zod's issues as sentences naming the field and the value; zod's own wording is not shown. */
function fromZod(error: z.ZodError, at: readonly PathSegment[], allowedKeys: string): ValidationIssue[] {
  return error.issues.flatMap((issue) => {
    const segments = [...at, ...issue.path.map((k) => (typeof k === "number" ? k : String(k)))];
    const path = formatPath(segments);
    const relative = formatPath(segments.slice(at.length));
    const what = relative !== "" ? relative : at.length === 0 ? "The policy" : "A statement";
    switch (issue.code) {
      case "unrecognized_keys":
        return issue.keys.map((key) => ({
          path: formatPath([...segments, key]),
          message: `Unknown key ${quote(key)}: ${segments.length === 0 ? "a policy" : "a statement"} has ${allowedKeys}.`,
        }));
      case "invalid_union":
        return [
          {
            path,
            message: `${what} must be a string or a list of strings; got ${describeValue(issue.input)}.`,
          },
        ];
      case "invalid_value": {
        if (issue.input === undefined) return [{ path, message: `${what} is required.` }];
        const options = issue.values.map((v) => JSON.stringify(v));
        const expected = options.length === 1 ? options[0] : `one of ${options.join(", ")}`;
        return [{ path, message: `${what} must be ${expected}; got ${describeValue(issue.input)}.` }];
      }
      case "invalid_type":
        if (issue.input === undefined) return [{ path, message: `${what} is required.` }];
        if (segments.length === at.length) {
          return [{ path, message: `A statement must be an object; got ${describeValue(issue.input)}.` }];
        }
        return [
          {
            path,
            message: `${what} must be ${issue.expected === "string" ? "a string" : `of type ${issue.expected}`}; got ${describeValue(issue.input)}.`,
          },
        ];
      default:
        return [{ path, message: `${what} is not valid (${describeValue(issue.input)}).` }];
    }
  });
}
