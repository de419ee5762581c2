/**
 * A Sluice pipeline document → the JSON `aws codepipeline get-pipeline` prints:
 * `{ pipeline, metadata }`. What an import kept in awsMetadata is written back where it came
 * from, so AWS → Sluice → AWS gives the AWS document back. A pipeline that never came from AWS
 * gets pipelineType V2 and version 1 and no roleArn (none is invented); its Sluice action types
 * and agent pools (`region`) appear as they are, so the import reads it back unchanged.
 */
import type { PipelineDocument, PipelineVariable, StageDeclaration } from "../document";
import {
  DEFAULT_PIPELINE_TYPE,
  DEFAULT_PIPELINE_VERSION,
  SLUICE_PIPELINE_FIELDS,
  SLUICE_STAGE_FIELDS,
  WRAPPER_FIELDS,
} from "./declaration";
import { exportAction } from "./export-action";
import { copyJson, hasKey, isRecord, type JsonRecord } from "./json";
import { exportTriggers, ORIGINAL_TRIGGERS_KEY } from "./triggers";

export interface AwsPipelineExport {
  pipeline: Record<string, unknown>;
  /** get-pipeline's metadata (pipelineArn, created, updated), when the import kept it. */
  metadata?: Record<string, unknown>;
  /** create-pipeline's tags, when the import kept them. */
  tags?: unknown;
}

/** awsMetadata keys the export does not copy into the declaration as they are. */
const COMPUTED_PIPELINE_KEYS: ReadonlySet<string> = new Set([
  ...SLUICE_PIPELINE_FIELDS,
  ...WRAPPER_FIELDS,
  ORIGINAL_TRIGGERS_KEY,
  "pipelineType",
  "version",
]);

/** When the pipeline was created and when the version shown was written: get-pipeline's metadata. */
export interface AwsExportTimes {
  created: Date;
  updated: Date;
}

/** The pipelineArn of a pipeline that never came from AWS: ARN-shaped, in a partition of its own. */
export function sluicePipelineArn(name: string): string {
  return `arn:sluice:codepipeline:::${name}`;
}

/**
 * `times` gives a pipeline that never came from AWS the metadata get-pipeline always prints
 * (`pipelineArn`, `created`, `updated`); an imported one keeps the metadata it came with.
 */
export function toAwsDocument(doc: PipelineDocument, times?: AwsExportTimes): AwsPipelineExport {
  const kept = doc.awsMetadata ?? {};
  const pipeline: JsonRecord = {};
  for (const [key, value] of Object.entries(kept)) {
    if (!COMPUTED_PIPELINE_KEYS.has(key)) pipeline[key] = copyJson(value);
  }
  pipeline["name"] = doc.name;
  pipeline["stages"] = doc.stages.map(exportStage);
  pipeline["version"] = hasKey(kept, "version") ? copyJson(kept["version"]) : DEFAULT_PIPELINE_VERSION;
  pipeline["executionMode"] = doc.executionMode;
  pipeline["pipelineType"] = hasKey(kept, "pipelineType")
    ? copyJson(kept["pipelineType"])
    : DEFAULT_PIPELINE_TYPE;
  // get-pipeline leaves out empty variable and trigger lists (V1 pipelines have neither).
  if (doc.variables.length > 0) pipeline["variables"] = doc.variables.map(exportVariable);
  const triggers = exportTriggers(doc.triggers, kept[ORIGINAL_TRIGGERS_KEY]);
  if (triggers.length > 0) pipeline["triggers"] = triggers;
  if ((doc.schedules ?? []).length > 0) pipeline["schedules"] = copyJson(doc.schedules);

  const result: AwsPipelineExport = { pipeline };
  if (isRecord(kept["metadata"])) result.metadata = copyJson(kept["metadata"]);
  else if (times) {
    result.metadata = {
      pipelineArn: sluicePipelineArn(doc.name),
      created: times.created.toISOString(),
      updated: times.updated.toISOString(),
    };
  }
  if (hasKey(kept, "tags")) result.tags = copyJson(kept["tags"]);
  return result;
}

function exportStage(stage: StageDeclaration): JsonRecord {
  const out: JsonRecord = {};
  for (const [key, value] of Object.entries(stage.awsMetadata ?? {})) {
    if (!SLUICE_STAGE_FIELDS.has(key)) out[key] = copyJson(value);
  }
  out["name"] = stage.name;
  out["actions"] = stage.actions.map(exportAction);
  if (stage.onNewerRevision !== null) out["onNewerRevision"] = stage.onNewerRevision;
  return out;
}

function exportVariable(variable: PipelineVariable): JsonRecord {
  const out: JsonRecord = { name: variable.name };
  if (variable.defaultValue !== null) out["defaultValue"] = variable.defaultValue;
  if (variable.description !== null) out["description"] = variable.description;
  return out;
}
