/**
 * Rule 11 of PIPELINE-MODEL.md: in configuration values, `#{Namespace.Variable}` names the
 * namespace of an action that runs earlier (earlier stage, or same stage with a lower runOrder, as
 * in rule 8); `#{variables.Name}` names a declared pipeline variable;
 * `#{codepipeline.PipelineExecutionId}` is always available. Any other `#{...}` is an error, so a
 * typo does not reach an agent as literal text.
 */
import type { PipelineDocument } from "../../document";
import { runsBefore } from "../../ordering";
import { appendPath, quote } from "../../paths";
import { EXECUTION_VARIABLES, extractReferences, type VariableReference } from "../../references";
import type { ActionEntry, ValidationContext } from "../context";
import { describeAction, listOf } from "../describe";
import { secretProperties } from "../../secrets";

export function variableReferencesRule(ctx: ValidationContext): void {
  const namespaces = new Map<string, ActionEntry>();
  for (const entry of ctx.actions()) {
    if (entry.action.namespace !== null && !namespaces.has(entry.action.namespace)) {
      namespaces.set(entry.action.namespace, entry);
    }
  }
  for (const entry of ctx.actions()) {
    const secrets = secretProperties(entry.type);
    for (const [key, value] of Object.entries(entry.action.configuration)) {
      for (const reference of extractReferences(value)) {
        const problem = problemWith(reference, entry, namespaces, ctx.document);
        // The text of a reference is part of the value: a secret's is not quoted.
        const text = secrets.has(key) ? "A reference in this secret value" : quote(reference.text);
        if (problem) ctx.report(appendPath(`${entry.path}.configuration`, key), `${text} ${problem}`);
      }
    }
  }
}

function problemWith(
  reference: VariableReference,
  consumer: ActionEntry,
  namespaces: ReadonlyMap<string, ActionEntry>,
  document: PipelineDocument,
): string | null {
  switch (reference.kind) {
    case "malformed":
      return "is not a variable reference; write #{Namespace.Variable}, #{variables.Name} or #{codepipeline.PipelineExecutionId}.";
    case "execution":
      return (EXECUTION_VARIABLES as readonly string[]).includes(reference.variable)
        ? null
        : `names no execution variable; the execution variables are ${listOf(EXECUTION_VARIABLES)}.`;
    case "pipelineVariable": {
      const declared = document.variables.map((v) => v.name);
      if (declared.includes(reference.name)) return null;
      return declared.length > 0
        ? `names pipeline variable ${quote(reference.name)}, which is not declared; the declared variables are ${listOf(declared)}.`
        : `names pipeline variable ${quote(reference.name)}, but the pipeline declares no variables.`;
    }
    case "output": {
      const producer = namespaces.get(reference.namespace);
      if (!producer) return `names namespace ${quote(reference.namespace)}, which no action declares.`;
      if (producer === consumer) {
        return `names the namespace of ${describeAction(consumer)} itself; an action can only read variables of actions that ran before it.`;
      }
      if (runsBefore(producer, consumer)) return null;
      return `names namespace ${quote(reference.namespace)} of ${describeAction(producer)}, which does not run before ${describeAction(consumer)}.`;
    }
  }
}
