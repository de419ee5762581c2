/**
 * Triggers (PIPELINE-MODEL.md, "Triggers"): `gitConfiguration.sourceActionName` names a Git
 * source action (Source/Sluice/Git) of the first stage, whose pushes the trigger filters.
 * Sluice, as CodePipeline: one trigger per source action — several filters go in one `push` list.
 */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";
import { describeType, listOf } from "../describe";

export function triggerSourceActionRule(ctx: ValidationContext): void {
  const sources = ctx.document.stages[0]?.actions ?? [];
  const gitSources = sources.filter(
    (a) =>
      a.actionTypeId.category === "Source" &&
      a.actionTypeId.owner === "Sluice" &&
      a.actionTypeId.provider === "Git",
  );
  const firstTrigger = new Map<string, number>();
  ctx.document.triggers.forEach((trigger, i) => {
    const name = trigger.gitConfiguration.sourceActionName;
    const path = `triggers[${i}].gitConfiguration.sourceActionName`;
    const action = sources.find((a) => a.name === name);
    if (!action) {
      const hint =
        gitSources.length > 0
          ? `the Git source actions are ${listOf(gitSources.map((a) => quote(a.name)))}`
          : "the first stage has no Git source action";
      ctx.report(path, `sourceActionName ${quote(name)} names no action of the first stage; ${hint}.`);
    } else if (!gitSources.includes(action)) {
      ctx.report(
        path,
        `sourceActionName ${quote(name)} names a ${describeType(action.actionTypeId)} action; triggers filter pushes to a Git source (Source/Sluice/Git).`,
      );
    }
    const earlier = firstTrigger.get(name);
    if (earlier === undefined) firstTrigger.set(name, i);
    else
      ctx.report(
        path,
        `triggers[${earlier}] already configures source action ${quote(name)}; put all its push filters in one trigger.`,
      );
  });
}
