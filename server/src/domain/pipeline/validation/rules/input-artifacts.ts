/**
 * Rule 8 of PIPELINE-MODEL.md: every input artifact names an output artifact of an action that
 * runs earlier — in an earlier stage, or in the same stage with a lower runOrder. An action with
 * the same runOrder runs at the same time, so its output does not count; nor does the action's
 * own output.
 */
import { runsBefore } from "../../ordering";
import { quote } from "../../paths";
import type { ActionEntry, ValidationContext } from "../context";
import { describeAction } from "../describe";

export function inputArtifactsRule(ctx: ValidationContext): void {
  const producers = new Map<string, ActionEntry[]>();
  for (const entry of ctx.actions()) {
    for (const { name } of entry.action.outputArtifacts)
      producers.set(name, [...(producers.get(name) ?? []), entry]);
  }
  for (const entry of ctx.actions()) {
    entry.action.inputArtifacts.forEach(({ name }, k) => {
      const problem = problemWith(name, entry, producers.get(name) ?? []);
      if (problem) ctx.report(`${entry.path}.inputArtifacts[${k}].name`, problem);
    });
  }
}

function problemWith(name: string, consumer: ActionEntry, producers: readonly ActionEntry[]): string | null {
  if (producers.some((producer) => producer !== consumer && runsBefore(producer, consumer))) return null;
  const artifact = `Input artifact ${quote(name)} of ${describeAction(consumer)}`;
  if (producers.length === 0)
    return `${artifact} is not produced by any action; name an output artifact of an earlier action.`;
  if (producers.every((producer) => producer === consumer)) {
    return `${artifact} is its own output; an action cannot consume what it produces.`;
  }
  const producer = producers.find((p) => p !== consumer) ?? consumer;
  const when =
    producer.stageIndex === consumer.stageIndex && producer.runOrder === consumer.runOrder
      ? `runs at the same time (same runOrder ${producer.runOrder})`
      : "does not run before it";
  return `${artifact} is produced by ${describeAction(producer)}, which ${when}; give the consumer a higher runOrder or move it to a later stage.`;
}
