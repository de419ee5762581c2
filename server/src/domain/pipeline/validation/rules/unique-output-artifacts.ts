/**
 * Rule 5 of PIPELINE-MODEL.md: output artifact names are unique in the pipeline, so every input
 * artifact names exactly one producer.
 */
import { quote } from "../../paths";
import type { ActionEntry, ValidationContext } from "../context";
import { describeAction } from "../describe";

export function uniqueOutputArtifactsRule(ctx: ValidationContext): void {
  const producer = new Map<string, ActionEntry>();
  for (const entry of ctx.actions()) {
    entry.action.outputArtifacts.forEach((artifact, k) => {
      const earlier = producer.get(artifact.name);
      if (earlier === undefined) producer.set(artifact.name, entry);
      else
        ctx.report(
          `${entry.path}.outputArtifacts[${k}].name`,
          earlier === entry
            ? `Output artifact ${quote(artifact.name)} is listed twice by ${describeAction(entry)}; output artifact names must be unique in the pipeline.`
            : `Output artifact ${quote(artifact.name)} is already produced by ${describeAction(earlier)}; output artifact names must be unique in the pipeline.`,
        );
    });
  }
}
