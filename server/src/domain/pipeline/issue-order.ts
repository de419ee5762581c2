/**
 * Puts issues in document order and drops exact duplicates, so a user reads them top to bottom
 * as they read the document. Two rules reporting the same sentence at the same path count once.
 */
import type { ValidationIssue } from "../errors";

/** Field order within the document's objects; keys not listed keep the order they were reported in. */
const FIELD_ORDER = [
  "name",
  "executionMode",
  "variables",
  "triggers",
  "stages",
  "defaultValue",
  "description",
  "providerType",
  "gitConfiguration",
  "sourceActionName",
  "push",
  "branches",
  "filePaths",
  "tags",
  "includes",
  "excludes",
  "actions",
  "actionTypeId",
  "category",
  "owner",
  "provider",
  "version",
  "runOrder",
  "configuration",
  "inputArtifacts",
  "outputArtifacts",
  "namespace",
  "region",
  "timeoutInMinutes",
  "awsMetadata",
];
const RANK = new Map(FIELD_ORDER.map((field, index) => [field, index]));
const UNRANKED = FIELD_ORDER.length;

type Segment = { key: string } | { index: number };

export function orderIssues(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const id = `${issue.path}\u0000${issue.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const keyed = unique.map((issue) => ({ issue, segments: parsePath(issue.path) }));
  // Array.prototype.sort is stable, so issues at the same place keep the rules' order.
  keyed.sort((a, b) => compareSegments(a.segments, b.segments));
  return keyed.map(({ issue }) => issue);
}

function compareSegments(a: readonly Segment[], b: readonly Segment[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareSegment(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function compareSegment(a: Segment, b: Segment): number {
  if ("index" in a && "index" in b) return a.index - b.index;
  if ("key" in a && "key" in b) return (RANK.get(a.key) ?? UNRANKED) - (RANK.get(b.key) ?? UNRANKED);
  return 0;
}

const SEGMENT = /\.?([A-Za-z_$@][A-Za-z0-9_$@-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;

function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  SEGMENT.lastIndex = 0;
  for (let match = SEGMENT.exec(path); match !== null; match = SEGMENT.exec(path)) {
    if (match[1] !== undefined) segments.push({ key: match[1] });
    else if (match[2] !== undefined) segments.push({ index: Number(match[2]) });
    else if (match[3] !== undefined) segments.push({ key: JSON.parse(match[3]) as string });
  }
  return segments;
}
