/**
 * Which providers an agent runs: the built-in ones it implements and the Custom types its operator
 * gave a handler command for. The runtime registers exactly these ids with the server.
 */
import type { ActionTypeId } from "@sluice/protocol";
import { createGitProvider } from "./git";
import { createHandlerProvider } from "./handler";
import { createShellProvider } from "./shell";
import { formatActionTypeId, type Provider } from "./types";
import { createWebhookProvider } from "./webhook";

/** The providers an agent runs when it is not told otherwise. */
export const BUILTIN_PROVIDER_IDS: readonly ActionTypeId[] = [
  { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
  { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
  { category: "Test", owner: "Sluice", provider: "Shell", version: "1" },
  { category: "Deploy", owner: "Sluice", provider: "Shell", version: "1" },
  { category: "Invoke", owner: "Sluice", provider: "Webhook", version: "1" },
];

function builtin(id: ActionTypeId): Provider | undefined {
  const key = `${id.provider}@${id.version}`;
  if (key === "Git@1" && id.category === "Source") return createGitProvider();
  if (key === "Shell@1" && (id.category === "Build" || id.category === "Test" || id.category === "Deploy")) {
    return createShellProvider(id.category);
  }
  if (key === "Webhook@1" && id.category === "Invoke") return createWebhookProvider();
  return undefined;
}

/**
 * One provider per id, keyed by formatActionTypeId. `handlers` maps a Custom type (in that same
 * form) to the command that runs its jobs. Throws, naming the type, for a Sluice type this agent
 * does not implement and for a Custom type without a handler.
 */
export function createProviders(
  ids: readonly ActionTypeId[],
  handlers: Readonly<Record<string, string>> = {},
): Map<string, Provider> {
  const providers = new Map<string, Provider>();
  for (const id of ids) {
    const key = formatActionTypeId(id);
    if (providers.has(key)) continue;
    if (id.owner === "Custom") {
      const command = handlers[key];
      if (command === undefined || command.trim() === "") {
        throw new Error(`${key} is a Custom action type: give the agent a handler command for it`);
      }
      providers.set(key, createHandlerProvider(id, command));
      continue;
    }
    if (handlers[key] !== undefined) {
      throw new Error(`${key} is a built-in Sluice type: handlers are only for Custom action types`);
    }
    if (id.category === "Approval") {
      throw new Error(`${key}: approvals are handled by the Sluice server, not by agents`);
    }
    const provider = builtin(id);
    if (!provider) {
      const known = BUILTIN_PROVIDER_IDS.map(formatActionTypeId).join(", ");
      throw new Error(`${key} is not a Sluice action type this agent implements (it runs ${known})`);
    }
    providers.set(key, provider);
  }
  return providers;
}
