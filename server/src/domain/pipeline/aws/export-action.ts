/**
 * One Sluice action → an AWS ActionDeclaration. An imported action gets back what the import kept
 * in its awsMetadata: the original actionTypeId and configuration, the original artifact lists,
 * and every AWS-only field. The originals are written only while they still describe the action
 * (importing them again gives its current type and configuration); an action edited since the
 * import is written as it is now, with Sluice's actionTypeId and configuration.
 */
import type { ActionDeclaration, ArtifactRef } from "../document";
import { mapActionType } from "./action-type-mapping";
import { SLUICE_ACTION_FIELDS, type AwsActionTypeId } from "./declaration";
import { copyJson, hasKey, isRecord, isStringRecord, jsonEqual, type JsonRecord } from "./json";

export function exportAction(action: ActionDeclaration): JsonRecord {
  const kept = action.awsMetadata ?? {};
  const out: JsonRecord = {};
  for (const [key, value] of Object.entries(kept)) {
    if (!SLUICE_ACTION_FIELDS.has(key)) out[key] = copyJson(value);
  }
  const { actionTypeId, configuration } = restoreTypeAndConfiguration(action, kept);
  out["name"] = action.name;
  out["actionTypeId"] = actionTypeId;
  if (configuration !== undefined) out["configuration"] = configuration;
  out["runOrder"] = action.runOrder;
  out["inputArtifacts"] = restoreArtifacts(action.inputArtifacts, kept["inputArtifacts"]);
  out["outputArtifacts"] = restoreArtifacts(action.outputArtifacts, kept["outputArtifacts"]);
  if (action.namespace !== null) out["namespace"] = action.namespace;
  // A Sluice agent pool, when set, is where the action runs; otherwise the AWS region it had.
  const region = action.region ?? kept["region"];
  if (region !== null && region !== undefined) out["region"] = copyJson(region);
  if (action.timeoutInMinutes !== null) out["timeoutInMinutes"] = action.timeoutInMinutes;
  if (action.retryPolicy !== null) out["retryPolicy"] = copyJson(action.retryPolicy);
  return out;
}

function restoreTypeAndConfiguration(
  action: ActionDeclaration,
  kept: JsonRecord,
): { actionTypeId: AwsActionTypeId; configuration: Record<string, string> | undefined } {
  const current = { actionTypeId: { ...action.actionTypeId }, configuration: { ...action.configuration } };
  const keptType = hasKey(kept, "actionTypeId");
  const originalType = keptType ? asActionTypeId(kept["actionTypeId"]) : current.actionTypeId;
  // A converted action with no `configuration` kept had none in AWS: the export leaves it out too.
  const originalConfiguration = hasKey(kept, "configuration")
    ? kept["configuration"]
    : keptType
      ? undefined
      : current.configuration;
  if (
    originalType === undefined ||
    (originalConfiguration !== undefined && !isStringRecord(originalConfiguration))
  ) {
    return current;
  }
  const mapping = mapActionType(originalType, originalConfiguration ?? {});
  const sameType = jsonEqual(mapping.actionTypeId, current.actionTypeId);
  // A Custom type the import created may have left keys of the original out of the configuration.
  const sameConfiguration = mapping.customTarget
    ? Object.entries(current.configuration).every(([key, value]) => mapping.configuration[key] === value)
    : jsonEqual(mapping.configuration, current.configuration);
  if (!sameType || !sameConfiguration) return current;
  return {
    actionTypeId: { ...originalType },
    configuration: originalConfiguration && { ...originalConfiguration },
  };
}

function asActionTypeId(value: unknown): AwsActionTypeId | undefined {
  if (!isRecord(value)) return undefined;
  const { category, owner, provider, version } = value;
  if (
    typeof category !== "string" ||
    typeof owner !== "string" ||
    typeof provider !== "string" ||
    typeof version !== "string"
  ) {
    return undefined;
  }
  return { category, owner, provider, version };
}

/** The original list (with `files` and the like) while it names the same artifacts. */
function restoreArtifacts(current: readonly ArtifactRef[], original: unknown): unknown[] {
  const same =
    Array.isArray(original) &&
    original.length === current.length &&
    original.every(
      (artifact: unknown, index) => isRecord(artifact) && artifact["name"] === current[index]?.name,
    );
  return same ? copyJson(original as unknown[]) : current.map(({ name }) => ({ name }));
}
