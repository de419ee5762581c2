import type { ActionTypeRegistry } from "../domain/action-types/action-type";
import { builtinRegistry, createRegistry } from "../domain/action-types/builtins";
import type { ActionTypeId, PipelineDocument } from "../domain/pipeline/document";
import {
  maskConfiguration,
  maskDocumentSecrets,
  secretProperties,
  textMasker,
} from "../domain/pipeline/secrets";
import type { GraphQLContext } from "./context";

/** Every action type, custom ones read once per request however many fields ask. */
const registryOf = new WeakMap<GraphQLContext, Promise<ActionTypeRegistry>>();
function actionTypes(ctx: GraphQLContext): Promise<ActionTypeRegistry> {
  let registry = registryOf.get(ctx);
  if (!registry) {
    registry = ctx.store.customActionTypes().then(createRegistry);
    registryOf.set(ctx, registry);
  }
  return registry;
}

/** Built-in types need no database read; only custom ones do. */
async function registryFor(ctx: GraphQLContext, ids: Iterable<ActionTypeId>): Promise<ActionTypeRegistry> {
  for (const id of ids) if (id.owner !== "Sluice") return actionTypes(ctx);
  return builtinRegistry;
}

/** A configuration as the API shows it: secret values masked (domain/pipeline/secrets.ts). */
export async function shownConfiguration<C extends Record<string, string> | null>(
  ctx: GraphQLContext,
  typeId: ActionTypeId,
  configuration: C,
): Promise<C> {
  if (configuration === null || Object.keys(configuration).length === 0) return configuration;
  const registry = await registryFor(ctx, [typeId]);
  return maskConfiguration(configuration, secretProperties(registry.find(typeId)));
}

/** A document as the API shows it: secret values masked. */
export async function shownDocument(
  ctx: GraphQLContext,
  document: PipelineDocument,
): Promise<PipelineDocument> {
  const ids = document.stages.flatMap((stage) => stage.actions.map((action) => action.actionTypeId));
  return maskDocumentSecrets(document, await registryFor(ctx, ids));
}

/** An attempt's log text as the API shows it: its secret values masked (domain/pipeline/secrets.ts). */
export async function logMasker(
  ctx: GraphQLContext,
  typeId: ActionTypeId,
  resolvedConfiguration: Record<string, string> | null,
): Promise<(text: string) => string> {
  const secrets = secretProperties((await registryFor(ctx, [typeId])).find(typeId));
  if (resolvedConfiguration === null || secrets.size === 0) return (text) => text;
  // Values are encrypted at rest: opened in memory to be found in the text (agents mask them
  // before sending already; this is for logs stored before they did).
  const opened = await ctx.vault.openSecrets(resolvedConfiguration, secrets).catch(() => ({}));
  return textMasker({ ...resolvedConfiguration, ...opened }, secrets);
}
