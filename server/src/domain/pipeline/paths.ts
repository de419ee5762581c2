/**
 * Paths name one field of a document in the form users read in messages:
 * `stages[1].actions[0].inputArtifacts[0].name`, `stages[0].actions[0].configuration.Repository`.
 * The document root is the empty path "".
 */

export type PathSegment = string | number;

/** Keys that can follow a dot; anything else (spaces, dots, empty) is written `["key"]`. */
const PLAIN_KEY = /^[A-Za-z_$@][A-Za-z0-9_$@-]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  return segments.reduce<string>((path, segment) => appendPath(path, segment), "");
}

export function appendPath(path: string, segment: PathSegment): string {
  if (typeof segment === "number") return `${path}[${segment}]`;
  if (!PLAIN_KEY.test(segment)) return `${path}[${JSON.stringify(segment)}]`;
  return path === "" ? segment : `${path}.${segment}`;
}

export function joinPath(...segments: PathSegment[]): string {
  return formatPath(segments);
}

export function stagePath(stageIndex: number): string {
  return `stages[${stageIndex}]`;
}

export function actionPath(stageIndex: number, actionIndex: number): string {
  return `stages[${stageIndex}].actions[${actionIndex}]`;
}

/** `"text"` for messages, cut short so a 1,000-character value does not swamp the sentence. */
export function quote(value: string, max = 60): string {
  return value.length > max ? `${JSON.stringify(value.slice(0, max))}…` : JSON.stringify(value);
}
