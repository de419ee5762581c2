/**
 * Rule 5 of PIPELINE-MODEL.md: namespaces are unique in the pipeline and never equal to an
 * artifact name (input or output), so `#{X.…}` and artifact X can never be confused.
 */
import { quote } from "../../paths";
import type { ActionEntry, ValidationContext } from "../context";
import { describeAction } from "../describe";

export function uniqueNamespacesRule(ctx: ValidationContext): void {
  const artifactNames = new Set(
    ctx
      .actions()
      .flatMap(({ action }) => [...action.inputArtifacts, ...action.outputArtifacts].map((a) => a.name)),
  );
  const first = new Map<string, ActionEntry>();
  for (const entry of ctx.actions()) {
    const namespace = entry.action.namespace;
    if (namespace === null) continue;
    const earlier = first.get(namespace);
    if (earlier !== undefined) {
      ctx.report(
        `${entry.path}.namespace`,
        `Namespace ${quote(namespace)} is already declared by ${describeAction(earlier)}; namespaces must be unique in the pipeline.`,
      );
    } else first.set(namespace, entry);
    if (artifactNames.has(namespace)) {
      ctx.report(
        `${entry.path}.namespace`,
        `Namespace ${quote(namespace)} is also the name of an artifact; a namespace must differ from every artifact name.`,
      );
    }
  }
}
