/**
 * Untrusted JSON → normalized PipelineDocument. Checks the shape only (schema.ts); the values are
 * checked by validatePipeline's rules. Every shape problem is reported, not just the first.
 */
import type { z } from "zod";
import type { ValidationIssue } from "../errors";
import { MAX_PIPELINE_DOCUMENT_BYTES } from "../limits";
import type { ActionDeclaration, PipelineDocument, StageDeclaration } from "./document";
import { orderIssues } from "./issue-order";
import type { PathSegment } from "./paths";
import { actionSchema, pipelineDocumentSchema, stageSchema } from "./schema";
import { fromZodIssues } from "./zod-issues";

import { exportPipelineDocument } from "./export";

export { exportPipelineDocument };

export function parsePipelineDocument(
  input: unknown,
): { ok: true; document: PipelineDocument } | { ok: false; issues: ValidationIssue[] } {
  const { document, issues } = readPipelineDocument(input);
  return document !== undefined && issues.length === 0 ? { ok: true, document } : { ok: false, issues };
}

/**
 * The parse behind parsePipelineDocument, for validatePipeline: `document` is set whenever the
 * shape is right, even when the document is too large, so the rules can still report their
 * problems alongside the size.
 */
export function readPipelineDocument(input: unknown): {
  document: PipelineDocument | undefined;
  issues: ValidationIssue[];
} {
  const result = pipelineDocumentSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    return {
      document: undefined,
      issues: orderIssues([...sizeIssues(input), ...fromZodIssues(result.error.issues)]),
    };
  }
  const document: PipelineDocument = result.data;
  return { document, issues: sizeIssues(exportPipelineDocument(document)) };
}

/** One stage as untrusted JSON (used by stage edits); issue paths start with `at`. */
export function parseStageDeclaration(
  input: unknown,
  at: readonly PathSegment[] = [],
): { ok: true; stage: StageDeclaration } | { ok: false; issues: ValidationIssue[] } {
  const result = stageSchema.safeParse(input, { reportInput: true });
  return result.success
    ? { ok: true, stage: result.data }
    : { ok: false, issues: issuesAt(result.error, at) };
}

/** One action as untrusted JSON (used by action edits); issue paths start with `at`. */
export function parseActionDeclaration(
  input: unknown,
  at: readonly PathSegment[] = [],
): { ok: true; action: ActionDeclaration } | { ok: false; issues: ValidationIssue[] } {
  const result = actionSchema.safeParse(input, { reportInput: true });
  return result.success
    ? { ok: true, action: result.data }
    : { ok: false, issues: issuesAt(result.error, at) };
}

function issuesAt(error: z.ZodError, at: readonly PathSegment[]): ValidationIssue[] {
  return orderIssues(fromZodIssues(error.issues, at));
}

/**
 * The size quota, in UTF-8 bytes of compact JSON. A document that parses is measured in its
 * exported form (exportPipelineDocument), so the same pipeline has the same size however it was
 * written (spaces, explicit nulls); anything else is measured as given.
 */
function sizeIssues(input: unknown): ValidationIssue[] {
  let json: string | undefined;
  try {
    json = JSON.stringify(input);
  } catch {
    return []; // Not JSON at all (a cycle, a bigint): the shape check says what is wrong.
  }
  if (json === undefined) return [];
  const bytes = new TextEncoder().encode(json).length;
  if (bytes <= MAX_PIPELINE_DOCUMENT_BYTES) return [];
  const size = (bytes / 1024).toFixed(1);
  return [
    {
      path: "",
      message: `The pipeline document is ${size} KB of JSON; the limit is ${MAX_PIPELINE_DOCUMENT_BYTES / 1024} KB.`,
      limit: true,
    },
  ];
}
