/** Shared wording for rule messages, so every rule names things the same way. */
import { actionTypeKey } from "../../action-types/action-type";
import type { ActionTypeId } from "../document";
import { quote } from "../paths";
import type { ActionEntry } from "./context";

/** `action "Compile" of stage "Build"` */
export function describeAction(entry: Pick<ActionEntry, "action" | "stage">): string {
  return `action ${quote(entry.action.name)} of stage ${quote(entry.stage.name)}`;
}

/** `Build/Sluice/Shell@1` */
export function describeType(id: ActionTypeId): string {
  return actionTypeKey(id);
}

/** `a, b and c` */
export function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** `1 stage`, `3 stages` */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** `a Build`, `an Approval` */
export function withArticle(word: string): string {
  return `${/^[AEIOU]/i.test(word) ? "an" : "a"} ${word}`;
}
