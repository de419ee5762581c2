/**
 * Name rules of the pipeline document (PIPELINE-MODEL.md, "The document"). Kept in one table so
 * validation, custom action types and the UI's hints say the same thing.
 */
import { quote } from "./paths";

export interface NameRule {
  /** How a message names the thing: "Stage name". */
  label: string;
  maxLength: number;
  pattern: RegExp;
  /** The allowed characters in words, for messages. */
  characters: string;
}

const NAME_CHARS = { pattern: /^[A-Za-z0-9.@_-]+$/, characters: "letters, digits and . @ _ -" };
const NAMESPACE_CHARS = { pattern: /^[A-Za-z0-9@_-]+$/, characters: "letters, digits and @ _ -" };
const ID_CHARS = { pattern: /^[A-Za-z0-9_-]+$/, characters: "letters, digits and _ -" };

export const NAME_RULES = {
  pipeline: { label: "Pipeline name", maxLength: 100, ...NAME_CHARS },
  stage: { label: "Stage name", maxLength: 100, ...NAME_CHARS },
  action: { label: "Action name", maxLength: 100, ...NAME_CHARS },
  artifact: { label: "Artifact name", maxLength: 100, ...ID_CHARS },
  namespace: { label: "Namespace", maxLength: 100, ...NAMESPACE_CHARS },
  variable: { label: "Variable name", maxLength: 128, ...NAMESPACE_CHARS },
  /** Sluice: `region` names the agent pool that runs the action. */
  region: { label: "Region (agent pool) name", maxLength: 100, ...ID_CHARS },
  provider: { label: "Provider", maxLength: 35, ...ID_CHARS },
  version: { label: "Version", maxLength: 9, ...ID_CHARS },
} as const satisfies Record<string, NameRule>;

export type NameKind = keyof typeof NAME_RULES;

/** A sentence saying why `value` is not a valid name of this kind, or null when it is valid. */
export function nameProblem(kind: NameKind, value: string): string | null {
  const rule: NameRule = NAME_RULES[kind];
  if (value.length >= 1 && value.length <= rule.maxLength && rule.pattern.test(value)) return null;
  const problem =
    value.length === 0
      ? "is empty"
      : value.length > rule.maxLength
        ? `is ${value.length} characters long`
        : "contains characters that are not allowed";
  return `${rule.label} ${quote(value)} ${problem}: use 1 to ${rule.maxLength} ${rule.characters}.`;
}
