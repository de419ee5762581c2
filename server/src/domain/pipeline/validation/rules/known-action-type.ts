/**
 * Rule 12 of PIPELINE-MODEL.md: the action type (category, owner, provider, version) exists in
 * the registry. The message lists the types that do exist for the category, which is usually the
 * fix (a typo in the provider, a version that was never created).
 */
import { quote } from "../../paths";
import type { ValidationContext } from "../context";
import { describeType, listOf } from "../describe";

export function knownActionTypeRule(ctx: ValidationContext): void {
  for (const { action, path, type } of ctx.actions()) {
    if (type) continue;
    const id = action.actionTypeId;
    const sameCategory = ctx.registry
      .all()
      .filter((t) => t.id.category === id.category)
      .map((t) => describeType(t.id));
    const known =
      sameCategory.length > 0
        ? `${id.category} action types that exist: ${listOf(sameCategory)}.`
        : `No ${id.category} action types exist.`;
    ctx.report(
      `${path}.actionTypeId`,
      `Action ${quote(action.name)} uses action type ${describeType(id)}, which does not exist. ${known}`,
    );
  }
}
