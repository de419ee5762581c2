/**
 * Variables (PIPELINE-MODEL.md, "Variables"): the pipeline variables an execution starts with, and
 * the resolution of `#{...}` references when an action is dispatched.
 */
import { DomainError } from "../errors";
import type { PipelineDocument } from "../pipeline/document";
import { substituteReferences, type VariableReference } from "../pipeline/references";
import { own } from "./records";
import type { ExecutionState } from "./types";

/**
 * Declared defaults with the start's overrides. A name the document does not declare is
 * BAD_USER_INPUT; a declared variable with neither default nor override is the empty string
 * (an execution started by a source change cannot supply one).
 */
export function startVariables(
  document: PipelineDocument,
  overrides: Record<string, string>,
): Record<string, string> {
  const declared = new Set(document.variables.map((variable) => variable.name));
  const unknown = Object.keys(overrides).filter((name) => !declared.has(name));
  if (unknown.length > 0) {
    const names = unknown.map((name) => `"${name}"`).join(", ");
    throw new DomainError(
      "BAD_USER_INPUT",
      `The pipeline declares no variable ${names}; declared: ${[...declared].join(", ") || "none"}.`,
      { undeclaredVariables: unknown },
    );
  }
  return Object.fromEntries(
    document.variables.map((variable) => [
      variable.name,
      own(overrides, variable.name) ?? variable.defaultValue ?? "",
    ]),
  );
}

export interface ResolvedConfiguration {
  configuration: Record<string, string>;
  /** The references no value was found for, as written (`#{Build.Version}`), in key order. */
  unresolved: string[];
}

/** Resolves every value against the execution's variables as they are now. */
export function resolveConfiguration(
  execution: ExecutionState,
  configuration: Record<string, string>,
): ResolvedConfiguration {
  const resolved: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [key, value] of Object.entries(configuration)) {
    const result = substituteReferences(value, (reference) => lookup(execution, reference));
    resolved[key] = result.value;
    unresolved.push(...result.unresolved.map((reference) => reference.text));
  }
  return { configuration: resolved, unresolved: [...new Set(unresolved)] };
}

function lookup(execution: ExecutionState, reference: VariableReference): string | undefined {
  switch (reference.kind) {
    case "output":
      return own(own(execution.outputVariables, reference.namespace), reference.variable);
    case "pipelineVariable":
      return own(execution.variables, reference.name);
    case "execution":
      return reference.variable === "PipelineExecutionId" ? execution.executionId : undefined;
    case "malformed":
      return undefined;
  }
}
