/**
 * Names follow their patterns and lengths (PIPELINE-MODEL.md, "The document"): pipeline, stage
 * and action names 1–100 [A-Za-z0-9.@_-]; artifact names 1–100 [A-Za-z0-9_-]; namespaces 1–100
 * [A-Za-z0-9@_-]; variable names 1–128 [A-Za-z0-9@_-]; region (Sluice: agent pool) 1–100
 * [A-Za-z0-9_-].
 *
 * Sluice: the namespaces `variables` and `codepipeline` are reserved, because `#{variables.X}`
 * and `#{codepipeline.X}` already mean pipeline and execution variables (rule 11).
 */
import { nameProblem, type NameKind } from "../../names";
import { EXECUTION_NAMESPACE, PIPELINE_VARIABLES_NAMESPACE } from "../../references";
import type { ValidationContext } from "../context";

export function validNamesRule(ctx: ValidationContext): void {
  const check = (kind: NameKind, value: string, path: string) => {
    const problem = nameProblem(kind, value);
    if (problem) ctx.report(path, problem);
  };
  const { document } = ctx;
  check("pipeline", document.name, "name");
  document.variables.forEach((variable, i) => check("variable", variable.name, `variables[${i}].name`));
  document.stages.forEach((stage, i) => check("stage", stage.name, `stages[${i}].name`));
  for (const { action, path } of ctx.actions()) {
    check("action", action.name, `${path}.name`);
    action.inputArtifacts.forEach((a, k) => check("artifact", a.name, `${path}.inputArtifacts[${k}].name`));
    action.outputArtifacts.forEach((a, k) => check("artifact", a.name, `${path}.outputArtifacts[${k}].name`));
    if (action.namespace !== null) {
      check("namespace", action.namespace, `${path}.namespace`);
      if (action.namespace === PIPELINE_VARIABLES_NAMESPACE || action.namespace === EXECUTION_NAMESPACE) {
        ctx.report(
          `${path}.namespace`,
          `Namespace "${action.namespace}" is reserved for #{${action.namespace}.…} references; choose another name.`,
        );
      }
    }
    if (action.region !== null) check("region", action.region, `${path}.region`);
  }
}
