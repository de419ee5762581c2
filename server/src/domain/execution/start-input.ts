/**
 * What a start brings besides the document (releaseChange's source revisions and variable
 * overrides, a push's revision) must fit in the jobs it leads to: agents refuse a job whose
 * revision URL is not http(s), or whose values are too long (PROTOCOL.md 5.1), and such an
 * execution would wait until its timeout. Refused here instead, with the path of each value.
 */
import { ValidationError, type ValidationIssue } from "../errors";
import {
  MAX_REVISION_ID_LENGTH,
  MAX_REVISION_SUMMARY_LENGTH,
  MAX_URL_LENGTH,
  MAX_VARIABLE_VALUE_LENGTH,
} from "../limits";
import type { SourceRevision } from "./types";

type GivenRevision = Pick<SourceRevision, "revisionId"> & Partial<SourceRevision>;

export function checkStartInput(
  sourceRevisions: readonly GivenRevision[],
  variables: Record<string, string>,
): void {
  const issues: ValidationIssue[] = [];
  sourceRevisions.forEach((revision, i) => {
    const at = `sourceRevisions[${i}]`;
    if (revision.revisionId.length === 0 || revision.revisionId.length > MAX_REVISION_ID_LENGTH) {
      issues.push({
        path: `${at}.revisionId`,
        message: `revisionId is ${revision.revisionId.length} characters long; use 1 to ${MAX_REVISION_ID_LENGTH}.`,
      });
    }
    const summary = revision.revisionSummary ?? null;
    if (summary !== null && summary.length > MAX_REVISION_SUMMARY_LENGTH) {
      issues.push({
        path: `${at}.revisionSummary`,
        message: `revisionSummary is ${summary.length} characters long; the limit is ${MAX_REVISION_SUMMARY_LENGTH}.`,
      });
    }
    const url = revision.revisionUrl ?? null;
    if (url !== null && !httpUrl(url)) {
      issues.push({
        path: `${at}.revisionUrl`,
        message: `revisionUrl must be an http or https URL of at most ${MAX_URL_LENGTH} characters.`,
      });
    }
  });
  for (const [name, value] of Object.entries(variables)) {
    if (value.length > MAX_VARIABLE_VALUE_LENGTH) {
      issues.push({
        path: `variables.${name}`,
        message: `The value of variable ${JSON.stringify(name)} is ${value.length} characters long; the limit is ${MAX_VARIABLE_VALUE_LENGTH}.`,
      });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

/** An absolute http or https URL with a host, as the protocol's URL fields take. */
export function httpUrl(value: string): boolean {
  if (value.length > MAX_URL_LENGTH) return false;
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}
