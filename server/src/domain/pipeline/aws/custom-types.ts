/**
 * Custom action types an import needs and the registry lacks. The definition is derived from how
 * the document uses the type: the configuration keys seen across all its actions (in the order
 * first seen) become optional String properties, at most the 10 a custom type may declare.
 */
import type { ActionTypeDefinition, ActionTypeRegistry } from "../../action-types/action-type";
import { MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES, MAX_CUSTOM_ARTIFACTS_PER_ACTION } from "../../limits";
import { ACTION_CATEGORIES, type ActionCategory } from "../document";
import { describeType } from "./action-type-mapping";
import type { AwsActionTypeId } from "./declaration";

export interface CustomTypeUse {
  /** The Custom type the action is imported as. */
  actionTypeId: AwsActionTypeId;
  configuration: Readonly<Record<string, string>>;
}

export function deriveCustomTypes(
  uses: readonly CustomTypeUse[],
  registry: ActionTypeRegistry,
): ActionTypeDefinition[] {
  const keysByType = new Map<
    string,
    { id: AwsActionTypeId & { category: ActionCategory }; keys: Set<string> }
  >();
  for (const use of uses) {
    const id = use.actionTypeId;
    // An unknown category cannot make a type; validation reports it on the action.
    if (id.owner !== "Custom" || !isCategory(id.category)) continue;
    if (registry.find({ ...id, category: id.category, owner: "Custom" }) !== undefined) continue;
    const key = describeType(id);
    const entry = keysByType.get(key) ?? { id: { ...id, category: id.category }, keys: new Set<string>() };
    for (const configurationKey of Object.keys(use.configuration)) entry.keys.add(configurationKey);
    keysByType.set(key, entry);
  }
  return [...keysByType.values()].map(({ id, keys }) => definitionFor(id, [...keys]));
}

/** The configuration keys a derived type declares; the rest of an action's keys cannot stay in its configuration. */
export function declaredKeys(definition: ActionTypeDefinition): ReadonlySet<string> {
  return new Set(definition.configurationProperties.map((property) => property.name));
}

function definitionFor(
  id: AwsActionTypeId & { category: ActionCategory },
  keys: string[],
): ActionTypeDefinition {
  const bounds = { minimumCount: 0, maximumCount: MAX_CUSTOM_ARTIFACTS_PER_ACTION };
  return {
    id: { category: id.category, owner: "Custom", provider: id.provider, version: id.version },
    description: `Imported from AWS CodePipeline provider ${id.provider}`,
    configurationProperties: keys.slice(0, MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES).map((name) => ({
      name,
      required: false,
      secret: false,
      queryable: false,
      description: null,
      type: "String" as const,
    })),
    inputArtifactDetails: { ...bounds },
    outputArtifactDetails: { ...bounds },
    settings: {
      entityUrlTemplate: null,
      executionUrlTemplate: null,
      revisionUrlTemplate: null,
      thirdPartyConfigurationUrl: null,
    },
  };
}

function isCategory(category: string): category is ActionCategory {
  return (ACTION_CATEGORIES as readonly string[]).includes(category);
}
