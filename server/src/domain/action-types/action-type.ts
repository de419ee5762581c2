import type { ActionCategory, ActionTypeId } from "../pipeline/document";

/**
 * An action type: what validation needs to know about (category, owner, provider, version).
 * Built-ins are owner `Sluice`; `Custom` types are created by users (createCustomActionType),
 * with the same description CodePipeline's custom action types have.
 */
export interface ConfigurationProperty {
  name: string;
  required: boolean;
  secret: boolean;
  queryable: boolean;
  description: string | null;
  type: "String" | "Number" | "Boolean";
}

export interface ArtifactBounds {
  minimumCount: number;
  maximumCount: number;
}

export interface ActionTypeSettings {
  entityUrlTemplate: string | null;
  executionUrlTemplate: string | null;
  revisionUrlTemplate: string | null;
  thirdPartyConfigurationUrl: string | null;
}

export interface ActionTypeDefinition {
  id: ActionTypeId;
  description: string | null;
  configurationProperties: ConfigurationProperty[];
  inputArtifactDetails: ArtifactBounds;
  outputArtifactDetails: ArtifactBounds;
  settings: ActionTypeSettings;
}

/** Looks up action types by id; validation depends only on this. */
export interface ActionTypeRegistry {
  find(id: ActionTypeId): ActionTypeDefinition | undefined;
  all(): ActionTypeDefinition[];
}

export function actionTypeKey(id: Pick<ActionTypeId, "category" | "owner" | "provider" | "version">): string {
  return `${id.category}/${id.owner}/${id.provider}@${id.version}`;
}

export type { ActionCategory };
