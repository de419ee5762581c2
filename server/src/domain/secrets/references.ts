/**
 * The secret store's names and the reference syntax of its values in a pipeline document
 * (docs/PIPELINE-MODEL.md, "Secret references"): `{{resolve:secret:NAME}}` anywhere in an action's
 * configuration value. The reference is what is stored and what the job message carries; the value
 * reaches only the agent that runs the job, sealed for its key (PROTOCOL.md 5.11).
 */
import { storeReferencePattern } from "@sluice/protocol";
import type { ValidationIssue } from "../errors";
import type { PipelineDocument } from "../pipeline/document";

/** A secret's name: letters, digits and `_ . @ + = -`, 1–128 (an SRN part: no `/`, `:` or wildcard). */
export const SECRET_NAME = /^[A-Za-z0-9_.@+=-]{1,128}$/;
/** The longest value of a secret, in characters. */
export const MAX_SECRET_VALUE = 65_536;
/** The longest description of a secret. */
export const MAX_SECRET_DESCRIPTION = 1_000;
/** How many versions of a secret are kept (the latest is used; older ones go). */
export const KEPT_SECRET_VERSIONS = 10;

/** Anything that starts like a store reference, to find malformed ones. */
const STARTED = /\{\{resolve:secret:/g;

/** A fresh global RegExp of the reference (PROTOCOL.md 5.11 defines it for agents too). */
export const referencePattern = storeReferencePattern;

/** The reference text of a secret: `{{resolve:secret:NAME}}`. */
export function secretReference(name: string): string {
  return `{{resolve:secret:${name}}}`;
}

/** The names a text references, each once, in order of appearance. */
export function referencedNames(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(referencePattern())) names.add(match[1]!);
  return [...names];
}

export function hasStoreReferences(text: string): boolean {
  return referencePattern().test(text);
}

/** Replaces each reference whose name `values` holds; the others stay as they are. */
export function replaceReferences(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(referencePattern(), (whole, name: string) => values.get(name) ?? whole);
}

export interface DocumentReference {
  /** `stages[1].actions[0].configuration.Token` */
  path: string;
  name: string;
}

/**
 * Every store reference of a document's action configurations, with the field that holds it.
 * `open` gives the clear text of a value (a secret property restored from its envelope); the
 * others are read as they are.
 */
export async function documentReferences(
  document: PipelineDocument,
  open: (value: string) => Promise<string> = async (value) => value,
): Promise<DocumentReference[]> {
  const found: DocumentReference[] = [];
  for (const [s, stage] of document.stages.entries())
    for (const [a, action] of stage.actions.entries())
      for (const [key, value] of Object.entries(action.configuration)) {
        const text = await open(value);
        for (const name of referencedNames(text))
          found.push({ path: `stages[${s}].actions[${a}].configuration.${key}`, name });
      }
  return found;
}

/** Malformed references (`{{resolve:secret:` not followed by a valid name and `}}`), by field. */
export function malformedReferences(document: PipelineDocument): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [s, stage] of document.stages.entries())
    for (const [a, action] of stage.actions.entries())
      for (const [key, value] of Object.entries(action.configuration)) {
        const started = [...value.matchAll(STARTED)].length;
        const complete = [...value.matchAll(referencePattern())].length;
        if (started > complete)
          issues.push({
            path: `stages[${s}].actions[${a}].configuration.${key}`,
            message:
              "A secret reference is {{resolve:secret:NAME}}, NAME 1–128 characters from A-Z a-z 0-9 _ . @ + = -.",
          });
      }
  return issues;
}
