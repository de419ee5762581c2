/**
 * Secret configuration values (properties an action type declares `secret`, such as the Webhook
 * type's Secret) never leave the server through its API: documents and resolved configurations
 * show SECRET_MASK in their place, as CodePipeline's GetPipeline shows `****`. A document sent
 * back with the mask keeps the stored value: the same stage, action and property in the version
 * it replaces. Agents still get the value itself in their jobs; the logs the API serves show the
 * mask wherever a job printed one (graphql/secrets.ts, logMasker).
 */
import type { ActionTypeDefinition, ActionTypeRegistry } from "../action-types/action-type";
import type { ActionTypeId, PipelineDocument } from "./document";

export const SECRET_MASK = "****";

/** The names of the secret configuration properties of a type (none for an unknown type). */
export function secretProperties(type: ActionTypeDefinition | undefined): ReadonlySet<string> {
  return new Set(type?.configurationProperties.filter((p) => p.secret).map((p) => p.name) ?? []);
}

/** A configuration with its secret values masked; the same object when it holds none. */
export function maskConfiguration<C extends Record<string, string> | null>(
  configuration: C,
  secrets: ReadonlySet<string>,
): C {
  if (configuration === null || secrets.size === 0) return configuration;
  if (!Object.keys(configuration).some((key) => secrets.has(key))) return configuration;
  const masked: Record<string, string> = {};
  for (const [key, value] of Object.entries(configuration))
    masked[key] = secrets.has(key) ? SECRET_MASK : value;
  return masked as C;
}

/** A copy of the document with every secret configuration value masked (the document itself when none). */
export function maskDocumentSecrets(
  document: PipelineDocument,
  registry: ActionTypeRegistry,
): PipelineDocument {
  let changed = false;
  const stages = document.stages.map((stage) => {
    let stageChanged = false;
    const actions = stage.actions.map((action) => {
      const configuration = maskConfiguration(
        action.configuration,
        secretProperties(registry.find(action.actionTypeId)),
      );
      if (configuration === action.configuration) return action;
      stageChanged = true;
      return { ...action, configuration };
    });
    if (!stageChanged) return stage;
    changed = true;
    return { ...stage, actions };
  });
  return changed ? { ...document, stages } : document;
}

/**
 * The document with each masked secret value replaced by the value stored in `previous` for the
 * same stage, action and property (when that one is set and is a secret of its type there too).
 * Masks without a stored value stay: validation reports them (masked-secrets rule).
 */
export function restoreMaskedSecrets(
  document: PipelineDocument,
  previous: PipelineDocument | null,
  registry: ActionTypeRegistry,
): PipelineDocument {
  if (previous === null) return document;
  const stored = new Map<string, { typeId: ActionTypeId; configuration: Record<string, string> }>();
  for (const stage of previous.stages)
    for (const action of stage.actions)
      stored.set(JSON.stringify([stage.name, action.name]), {
        typeId: action.actionTypeId,
        configuration: action.configuration,
      });
  let changed = false;
  const stages = document.stages.map((stage) => {
    let stageChanged = false;
    const actions = stage.actions.map((action) => {
      const secrets = secretProperties(registry.find(action.actionTypeId));
      const masked = Object.keys(action.configuration).filter(
        (key) => secrets.has(key) && action.configuration[key] === SECRET_MASK,
      );
      const before = stored.get(JSON.stringify([stage.name, action.name]));
      if (masked.length === 0 || before === undefined) return action;
      const secretsBefore = secretProperties(registry.find(before.typeId));
      const configuration = { ...action.configuration };
      let restored = false;
      for (const key of masked) {
        const value = before.configuration[key];
        if (value === undefined || value === SECRET_MASK || !secretsBefore.has(key)) continue;
        configuration[key] = value;
        restored = true;
      }
      if (!restored) return action;
      stageChanged = true;
      return { ...action, configuration };
    });
    if (!stageChanged) return stage;
    changed = true;
    return { ...stage, actions };
  });
  return changed ? { ...document, stages } : document;
}

/** Secret values shorter than this are not masked in text: they would mask ordinary words. */
const SHORTEST_MASKED = 4;

/**
 * Hides a configuration's secret values wherever a text prints them (a job's log: a handler that
 * echoes its input, `set -x`): each occurrence, and each line of a multi-line value, shows as the
 * mask. The identity when there is nothing to hide.
 */
export function textMasker(
  configuration: Record<string, string> | null,
  secrets: ReadonlySet<string>,
): (text: string) => string {
  const values = new Set<string>();
  for (const key of secrets) {
    const value = configuration?.[key];
    if (value === undefined) continue;
    for (const part of [value, ...value.split(/\r?\n/).map((line) => line.trim())])
      if (part.length >= SHORTEST_MASKED) values.add(part);
  }
  if (values.size === 0) return (text) => text;
  // The longest first, so that a value containing another is masked whole.
  const ordered = [...values].sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((masked, value) => masked.split(value).join(SECRET_MASK), text);
}
