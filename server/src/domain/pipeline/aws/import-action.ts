/**
 * One AWS action declaration → one Sluice action (JSON for validatePipeline) plus what it keeps
 * in awsMetadata: the original actionTypeId and configuration when the import changed them, and
 * every AWS-only field (roleArn, region, commands, outputVariables, environmentVariables, ...),
 * so that the AWS export can write the action back exactly.
 */
import { MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES } from "../../limits";
import { appendPath } from "../paths";
import type { TypeMapping } from "./action-type-mapping";
import { describeType } from "./action-type-mapping";
import type { AwsActionView } from "./declaration";
import { SLUICE_ACTION_FIELDS } from "./declaration";
import { copyJson, hasKey, isRecord, type JsonRecord } from "./json";
import type { WarningList } from "./warnings";

/** Fields copied as they are: same name, same meaning. */
const DIRECT_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "runOrder",
  "namespace",
  "timeoutInMinutes",
  // Sluice's own: written by the AWS export only when set, read back here.
  "retryPolicy",
]);

export interface ActionImportContext {
  mapping: TypeMapping;
  /** Whether `region` names a Sluice agent pool (Sluice's own exports) rather than an AWS region. */
  regionIsPool: boolean;
  /** For a Custom type the import creates: the configuration keys it declares. */
  declaredKeys: ReadonlySet<string> | undefined;
  /** Set on the first action that needs a type the import creates: the sentence announcing it. */
  createdTypeNote: string | undefined;
}

export function importAction(
  view: AwsActionView,
  context: ActionImportContext,
  warnings: WarningList,
): JsonRecord {
  const { declaration, path } = view;
  const { mapping } = context;
  const awsMetadata: JsonRecord = {};
  const action: JsonRecord = {};

  for (const note of mapping.notes) warnings.add(appendPathAll(path, note.at), note.message);
  if (context.createdTypeNote !== undefined)
    warnings.add(appendPath(path, "actionTypeId"), context.createdTypeNote);
  if (mapping.converted) {
    awsMetadata["actionTypeId"] = copyJson(declaration["actionTypeId"]);
    if (hasKey(declaration, "configuration"))
      awsMetadata["configuration"] = copyJson(declaration["configuration"]);
  }
  action["actionTypeId"] = mapping.actionTypeId;
  action["configuration"] = keepDeclaredKeys(view, context, awsMetadata, warnings);

  for (const [key, value] of Object.entries(declaration)) {
    const at = appendPath(path, key);
    if (DIRECT_FIELDS.has(key)) {
      action[key] = value;
    } else if (key === "inputArtifacts" || key === "outputArtifacts") {
      action[key] = importArtifacts(value, at, awsMetadata, key, warnings);
    } else if (key === "region") {
      if (context.regionIsPool) action[key] = value;
      else {
        awsMetadata[key] = copyJson(value);
        warnings.add(
          at,
          `The AWS region ${JSON.stringify(value)} is not a Sluice agent pool: it is kept in awsMetadata, for the AWS export, and the action runs in the default pool.`,
        );
      }
    } else if (!SLUICE_ACTION_FIELDS.has(key)) {
      awsMetadata[key] = copyJson(value);
      warnings.add(
        at,
        `The AWS action field ${key} has no Sluice equivalent: it is kept in awsMetadata, for the AWS export.`,
      );
    }
  }
  action["awsMetadata"] = Object.keys(awsMetadata).length > 0 ? awsMetadata : null;
  return action;
}

/**
 * A Custom type the import creates declares at most 10 properties; an action's other keys leave
 * its configuration. The original configuration in awsMetadata still holds them.
 */
function keepDeclaredKeys(
  view: AwsActionView,
  context: ActionImportContext,
  awsMetadata: JsonRecord,
  warnings: WarningList,
): Record<string, string> {
  const { configuration } = context.mapping;
  const declared = context.declaredKeys;
  if (declared === undefined) return configuration;
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(configuration)) {
    if (declared.has(key)) {
      kept[key] = value;
      continue;
    }
    awsMetadata["configuration"] ??= copyJson(view.declaration["configuration"]);
    warnings.add(
      appendPath(appendPath(view.path, "configuration"), key),
      `A custom type declares at most ${MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES} configuration properties and ${key} is not among the first ones seen for ${describeType(context.mapping.actionTypeId)}: it is kept only in awsMetadata, for the AWS export.`,
    );
  }
  return kept;
}

/**
 * Sluice artifacts are `{ name }`; AWS output artifacts may also list `files` (Commands action).
 * When any entry has more than a name, the original list is kept in awsMetadata.
 */
function importArtifacts(
  value: unknown,
  path: string,
  awsMetadata: JsonRecord,
  key: string,
  warnings: WarningList,
): unknown {
  if (!Array.isArray(value)) return value;
  let richer = false;
  const artifacts = value.map((artifact: unknown, index) => {
    if (!isRecord(artifact)) return artifact;
    for (const field of Object.keys(artifact)) {
      if (field === "name") continue;
      richer = true;
      warnings.add(
        appendPath(appendPath(path, index), field),
        `Artifact field ${field} has no Sluice equivalent: the original ${key} are kept in awsMetadata, for the AWS export.`,
      );
    }
    return { name: artifact["name"] };
  });
  if (richer) awsMetadata[key] = copyJson(value);
  return artifacts;
}

function appendPathAll(path: string, segments: readonly (string | number)[]): string {
  return segments.reduce<string>((at, segment) => appendPath(at, segment), path);
}
