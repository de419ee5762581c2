/**
 * `#{...}` variable references in configuration values (PIPELINE-MODEL.md, "Variables"):
 *
 * - `#{Namespace.Name}`: an output variable of the earlier action that declares that namespace;
 * - `#{variables.Name}`: a pipeline variable;
 * - `#{codepipeline.PipelineExecutionId}`: the execution id.
 *
 * Extraction is purely lexical; whether a reference resolves is validation's business (rule 11)
 * and the dispatcher's (substituteReferences).
 */

/** The namespace of pipeline variables; no action may declare it. */
export const PIPELINE_VARIABLES_NAMESPACE = "variables";
/** The namespace of execution variables; no action may declare it. */
export const EXECUTION_NAMESPACE = "codepipeline";
export const EXECUTION_VARIABLES = ["PipelineExecutionId"] as const;

export type VariableReference =
  /** `#{Build.CommitId}`: output variable `variable` of the action with namespace `namespace`. */
  | { kind: "output"; text: string; start: number; namespace: string; variable: string }
  /** `#{variables.Env}` */
  | { kind: "pipelineVariable"; text: string; start: number; name: string }
  /** `#{codepipeline.PipelineExecutionId}`; `variable` may be one that does not exist. */
  | { kind: "execution"; text: string; start: number; variable: string }
  /** `#{...}` that is not `#{Namespace.Name}`, or a `#{` never closed. */
  | { kind: "malformed"; text: string; start: number };

const BODY = /^([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_-]+)$/;

/** Every `#{...}` in `value`, in order. `start` is the offset of the `#`. */
export function extractReferences(value: string): VariableReference[] {
  const references: VariableReference[] = [];
  let start = value.indexOf("#{");
  while (start >= 0) {
    const end = value.indexOf("}", start + 2);
    if (end < 0) {
      references.push({ kind: "malformed", text: value.slice(start), start });
      break;
    }
    const text = value.slice(start, end + 1);
    references.push(classify(text, value.slice(start + 2, end), start));
    start = value.indexOf("#{", end + 1);
  }
  return references;
}

function classify(text: string, body: string, start: number): VariableReference {
  const match = BODY.exec(body);
  if (!match) return { kind: "malformed", text, start };
  const [, namespace = "", variable = ""] = match;
  if (namespace === PIPELINE_VARIABLES_NAMESPACE)
    return { kind: "pipelineVariable", text, start, name: variable };
  if (namespace === EXECUTION_NAMESPACE) return { kind: "execution", text, start, variable };
  return { kind: "output", text, start, namespace, variable };
}

/**
 * Replaces each reference that `resolve` knows; references it returns undefined for are left as
 * written and listed in `unresolved`, so the caller decides whether that fails the action.
 */
export function substituteReferences(
  value: string,
  resolve: (reference: VariableReference) => string | undefined,
): { value: string; unresolved: VariableReference[] } {
  const unresolved: VariableReference[] = [];
  let result = "";
  let cursor = 0;
  for (const reference of extractReferences(value)) {
    const replacement = reference.kind === "malformed" ? undefined : resolve(reference);
    if (replacement === undefined) {
      unresolved.push(reference);
      continue;
    }
    result += value.slice(cursor, reference.start) + replacement;
    cursor = reference.start + reference.text.length;
  }
  return { value: result + value.slice(cursor), unresolved };
}
