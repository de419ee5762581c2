/**
 * What an agent may report as an action's outputs (PROTOCOL.md 9): only the artifacts the action
 * declares, each stored under its own attempt's key `<executionId>/<actionExecutionId>/<attempt>/<name>`.
 * Anything else would let a worker of one job record another execution's object, or another
 * action's, as its own output (and have it served and handed to the next actions), so a succeeded
 * result that reports one fails the attempt with ConfigurationError and records none of its outputs.
 */
import { actionDeclaration, type AttemptLocation } from "./state";
import type { ActionCompletedEvent } from "./types";

/** `<executionId>/<actionExecutionId>/<attempt>/`, as the protocol's outputArtifactKeyPrefix. */
export function attemptKeyPrefix(at: AttemptLocation): string {
  return `${at.execution.executionId}/${at.attempt.actionExecutionId}/${at.attempt.attempt}/`;
}

/** Why the reported outputs cannot be recorded, or null when they are exactly what was asked. */
export function refusedOutputs(at: AttemptLocation, result: ActionCompletedEvent): string | null {
  if (result.outcome !== "Succeeded") return null;
  const declared = actionDeclaration(at.execution, at.stageIndex, at.actionIndex).outputArtifacts.map(
    (a) => a.name,
  );
  const reported = result.outputArtifacts ?? [];
  const prefix = attemptKeyPrefix(at);
  for (const artifact of reported) {
    if (!declared.includes(artifact.name))
      return `The agent reported the output artifact "${artifact.name}", which the action does not declare${
        declared.length ? ` (it declares ${declared.join(", ")})` : " (it declares none)"
      }.`;
    if (artifact.objectKey !== prefix + artifact.name)
      return `The output artifact "${artifact.name}" was reported at "${artifact.objectKey}"; this attempt stores its outputs under "${prefix}".`;
  }
  return null;
}

/** The result to record: a succeeded one with refused outputs becomes a ConfigurationError failure. */
export function checkedResult(at: AttemptLocation, result: ActionCompletedEvent): ActionCompletedEvent {
  const refusal = refusedOutputs(at, result);
  if (refusal === null) return result;
  return {
    ...result,
    outcome: "Failed",
    summary: refusal,
    errorDetails: { code: "ConfigurationError", message: refusal },
    outputVariables: null,
    outputArtifacts: null,
    failureType: "ConfigurationError",
    cause: "OutputsRefused",
  };
}
