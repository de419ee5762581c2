/**
 * `aws codepipeline get-pipeline` JSON → a Sluice pipeline document (JSON for validatePipeline),
 * the warnings that name every mapping made, and the Custom action types the document needs
 * that the registry lacks. Nothing is dropped silently: what Sluice has no field for is kept in
 * the awsMetadata of the pipeline, stage or action it came from, and toAwsDocument writes it back.
 *
 * Paths in issues and warnings are relative to the pipeline declaration (inside the wrapper),
 * as validatePipeline reports them; the wrapper's own fields are `metadata` and `tags`.
 */
import type { ActionTypeDefinition, ActionTypeRegistry } from "../../action-types/action-type";
import type { ValidationIssue } from "../../errors";
import { appendPath } from "../paths";
import { describeType, mapActionType } from "./action-type-mapping";
import { declaredKeys, deriveCustomTypes } from "./custom-types";
import {
  DEFAULT_PIPELINE_TYPE,
  DEFAULT_PIPELINE_VERSION,
  SLUICE_PIPELINE_FIELDS,
  SLUICE_STAGE_FIELDS,
  WRAPPER_FIELDS,
  type AwsDocumentView,
  type AwsStageView,
  readAwsDocument,
} from "./declaration";
import { importAction } from "./import-action";
import { copyJson, type JsonRecord } from "./json";
import { importTriggers, ORIGINAL_TRIGGERS_KEY } from "./triggers";
import { type AwsImportWarning, WarningList } from "./warnings";

export type { AwsImportWarning } from "./warnings";

export type AwsImportResult =
  | { ok: true; document: unknown; warnings: AwsImportWarning[]; customTypes: ActionTypeDefinition[] }
  | { ok: false; issues: ValidationIssue[] };

/** Why CodePipeline's pipeline-level fields have no Sluice field, for the warnings. */
const PIPELINE_FIELD_REASONS: Readonly<Record<string, string>> = {
  roleArn: "Sluice runs actions with its agents' credentials, not an IAM service role",
  artifactStore: "Sluice keeps artifacts in its own object store",
  artifactStores: "Sluice keeps artifacts in its own object store",
  pipelineType: "Sluice has one pipeline type, with V2's features",
  version: "Sluice numbers pipeline versions itself",
  metadata: "the pipeline ARN and timestamps belong to the AWS pipeline",
  tags: "Sluice has no pipeline tags",
};

const STAGE_CONDITION_FIELDS: ReadonlySet<string> = new Set([
  "blockers",
  "onFailure",
  "onSuccess",
  "beforeEntry",
]);

export function fromAwsDocument(json: unknown, registry: ActionTypeRegistry): AwsImportResult {
  const read = readAwsDocument(json);
  if (!read.ok) return read;
  const { view } = read;
  const warnings = new WarningList();
  const awsMetadata: JsonRecord = {};
  const document: JsonRecord = importPipelineFields(view, awsMetadata, warnings);
  const { stages, customTypes } = importStages(view, registry, warnings);
  document["stages"] = stages;
  document["awsMetadata"] = Object.keys(awsMetadata).length > 0 ? awsMetadata : null;
  return { ok: true, document, warnings: warnings.items, customTypes };
}

/** Pipeline and wrapper fields: Sluice's own are copied, triggers mapped, the rest kept in awsMetadata. */
function importPipelineFields(
  view: AwsDocumentView,
  awsMetadata: JsonRecord,
  warnings: WarningList,
): JsonRecord {
  const fields: JsonRecord = {};
  for (const [key, value] of Object.entries(view.declaration)) {
    if (key === "stages") continue;
    if (key === "triggers" && Array.isArray(value)) {
      const mapped = importTriggers(value, warnings);
      fields[key] = mapped.triggers;
      if (mapped.changed) awsMetadata[ORIGINAL_TRIGGERS_KEY] = copyJson(value);
    } else if (SLUICE_PIPELINE_FIELDS.has(key)) {
      fields[key] = copyJson(value);
    } else if (WRAPPER_FIELDS.has(key)) {
      warnings.add(key, `${key} belongs beside the pipeline declaration, not inside it; it is not kept.`);
    } else if (
      (key === "pipelineType" && value === DEFAULT_PIPELINE_TYPE) ||
      (key === "version" && value === DEFAULT_PIPELINE_VERSION)
    ) {
      warnings.add(
        key,
        `${key} ${JSON.stringify(value)} is not kept (${reason(key)}); the AWS export writes ${JSON.stringify(value)} by default.`,
      );
    } else {
      keep(key, value);
    }
  }
  for (const [key, value] of Object.entries(view.wrapper)) {
    if (WRAPPER_FIELDS.has(key)) keep(key, value);
    else
      warnings.add(
        key,
        `${key} is not a field of get-pipeline's output beside the pipeline declaration; it is not kept.`,
      );
  }
  return fields;

  function keep(key: string, value: unknown): void {
    awsMetadata[key] = copyJson(value);
    warnings.add(
      key,
      `${key} has no Sluice equivalent (${reason(key)}): it is kept in the pipeline's awsMetadata, for the AWS export.`,
    );
  }
}

function reason(key: string): string {
  return PIPELINE_FIELD_REASONS[key] ?? "it is not a CodePipeline field Sluice knows";
}

function importStages(
  view: AwsDocumentView,
  registry: ActionTypeRegistry,
  warnings: WarningList,
): { stages: JsonRecord[]; customTypes: ActionTypeDefinition[] } {
  // A pipeline without roleArn cannot come from CodePipeline (it requires a service role): it is a
  // Sluice export, and there `region` of a Custom action is the agent pool it was written from.
  const fromSluice = view.declaration["roleArn"] === undefined;
  const mapped = view.stages.map((stage) =>
    stage.actions.map((action) => ({
      action,
      mapping: mapActionType(action.actionTypeId, action.configuration ?? {}),
    })),
  );
  const derived = deriveCustomTypes(
    mapped.flat().map(({ mapping }) => mapping),
    registry,
  );
  const created = new Map(derived.map((definition) => [describeType(definition.id), definition]));
  const announced = new Set<string>();

  const stages = view.stages.map((stage, stageIndex) => {
    const imported = importStageFields(stage, warnings);
    imported["actions"] = (mapped[stageIndex] ?? []).map(({ action, mapping }) => {
      const key = describeType(mapping.actionTypeId);
      const definition = mapping.customTarget ? created.get(key) : undefined;
      const firstUse = definition !== undefined && !announced.has(key);
      if (firstUse) announced.add(key);
      return importAction(
        action,
        {
          mapping,
          regionIsPool:
            action.actionTypeId.owner === "Sluice" || (action.actionTypeId.owner === "Custom" && fromSluice),
          declaredKeys: definition && declaredKeys(definition),
          createdTypeNote: firstUse ? createdTypeNote(definition) : undefined,
        },
        warnings,
      );
    });
    return imported;
  });
  return { stages, customTypes: derived };
}

function importStageFields(stage: AwsStageView, warnings: WarningList): JsonRecord {
  const imported: JsonRecord = {};
  const awsMetadata: JsonRecord = {};
  for (const [key, value] of Object.entries(stage.declaration)) {
    if (key === "actions") continue;
    if (SLUICE_STAGE_FIELDS.has(key)) {
      imported[key] = copyJson(value);
      continue;
    }
    awsMetadata[key] = copyJson(value);
    const what = STAGE_CONDITION_FIELDS.has(key)
      ? `Sluice does not evaluate the stage's ${key}`
      : `The stage field ${key} has no Sluice equivalent`;
    warnings.add(
      appendPath(stage.path, key),
      `${what}: it is kept in the stage's awsMetadata, for the AWS export.`,
    );
  }
  imported["awsMetadata"] = Object.keys(awsMetadata).length > 0 ? awsMetadata : null;
  return imported;
}

function createdTypeNote(definition: ActionTypeDefinition): string {
  const names = definition.configurationProperties.map((property) => property.name);
  const properties =
    names.length > 0 ? `the optional String properties ${names.join(", ")}` : "no configuration properties";
  return `The Custom type ${describeType(definition.id)} is not registered: the import creates it, with ${properties} and 0–5 input and output artifacts.`;
}
