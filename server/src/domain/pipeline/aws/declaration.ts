/**
 * The AWS document as the import reads it: `aws codepipeline get-pipeline` output, with or without
 * its `{ pipeline, metadata }` wrapper. Only the structure the mapping relies on is checked here
 * (objects and lists where they must be, an actionTypeId of four strings, string configuration
 * values); every other value is passed on for validatePipeline to judge.
 */
import type { ValidationIssue } from "../../errors";
import { appendPath } from "../paths";
import { isRecord, type JsonRecord } from "./json";

/** The CodePipeline ActionTypeId; owner is AWS, ThirdParty, Custom — or Sluice in Sluice's exports. */
export interface AwsActionTypeId {
  category: string;
  owner: string;
  provider: string;
  version: string;
}

export interface AwsActionView {
  /** `stages[i].actions[j]` */
  path: string;
  declaration: JsonRecord;
  actionTypeId: AwsActionTypeId;
  /** undefined when the declaration has no `configuration`. */
  configuration: Record<string, string> | undefined;
}

export interface AwsStageView {
  path: string;
  declaration: JsonRecord;
  actions: AwsActionView[];
}

export interface AwsDocumentView {
  /** The PipelineDeclaration (inside the wrapper when there is one). */
  declaration: JsonRecord;
  /** The wrapper's fields other than `pipeline` (`metadata`, ...); empty without a wrapper. */
  wrapper: JsonRecord;
  stages: AwsStageView[];
}

/** Pipeline fields that have a Sluice field of the same name and meaning. */
export const SLUICE_PIPELINE_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "executionMode",
  "variables",
  "triggers",
  "stages",
  // Sluice's own: the AWS export writes it only when set, and the import reads it back.
  "schedules",
]);
/**
 * `onNewerRevision` is Sluice's own (no CodePipeline stage has it): the AWS export writes it only
 * when set, and the import reads it back, so a Sluice → AWS → Sluice round trip keeps it.
 */
export const SLUICE_STAGE_FIELDS: ReadonlySet<string> = new Set(["name", "actions", "onNewerRevision"]);
export const SLUICE_ACTION_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "actionTypeId",
  "runOrder",
  "configuration",
  "inputArtifacts",
  "outputArtifacts",
  "namespace",
  "region",
  "timeoutInMinutes",
  "retryPolicy",
]);

/** Fields that sit beside `pipeline` in the wrapper: get-pipeline's `metadata`, create-pipeline's `tags`. */
export const WRAPPER_FIELDS: ReadonlySet<string> = new Set(["metadata", "tags"]);

const ACTION_TYPE_ID_FIELDS = ["category", "owner", "provider", "version"] as const;

export function readAwsDocument(
  json: unknown,
): { ok: true; view: AwsDocumentView } | { ok: false; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path, message });

  if (!isRecord(json)) {
    issue(
      "",
      "An AWS pipeline document must be a JSON object: the output of `aws codepipeline get-pipeline`.",
    );
    return { ok: false, issues };
  }
  const wrapped = Object.prototype.hasOwnProperty.call(json, "pipeline");
  const declaration = wrapped ? json["pipeline"] : json;
  const wrapper: JsonRecord = wrapped
    ? Object.fromEntries(Object.entries(json).filter(([key]) => key !== "pipeline"))
    : {};
  if (!isRecord(declaration)) {
    issue("pipeline", "The `pipeline` field must be an object: the pipeline declaration.");
    return { ok: false, issues };
  }
  if (wrapper["metadata"] !== undefined && !isRecord(wrapper["metadata"])) {
    issue("metadata", "The wrapper's `metadata` must be an object (pipelineArn, created, updated).");
  }
  if (declaration["triggers"] !== undefined && !Array.isArray(declaration["triggers"])) {
    issue("triggers", "`triggers` must be a list of trigger declarations.");
  }
  const stages = readStages(declaration["stages"], issue);
  return issues.length === 0 ? { ok: true, view: { declaration, wrapper, stages } } : { ok: false, issues };
}

type Report = (path: string, message: string) => void;

function readStages(value: unknown, issue: Report): AwsStageView[] {
  if (!Array.isArray(value)) {
    issue("stages", "`stages` is required: a list of stage declarations, each with a name and actions.");
    return [];
  }
  const stages: AwsStageView[] = [];
  value.forEach((stage: unknown, index) => {
    const path = appendPath("stages", index);
    if (!isRecord(stage))
      return issue(path, "A stage declaration must be an object with a name and actions.");
    const actionsPath = appendPath(path, "actions");
    if (!Array.isArray(stage["actions"]))
      return issue(actionsPath, "`actions` is required: a list of action declarations.");
    const actions = stage["actions"].flatMap((action: unknown, j) =>
      readAction(action, appendPath(actionsPath, j), issue),
    );
    stages.push({ path, declaration: stage, actions });
  });
  return stages;
}

function readAction(action: unknown, path: string, issue: Report): AwsActionView[] {
  if (!isRecord(action)) {
    issue(path, "An action declaration must be an object with a name and an actionTypeId.");
    return [];
  }
  const actionTypeId = readActionTypeId(action["actionTypeId"], appendPath(path, "actionTypeId"), issue);
  const configuration = readConfiguration(action["configuration"], appendPath(path, "configuration"), issue);
  if (actionTypeId === undefined || configuration === null) return [];
  return [{ path, declaration: action, actionTypeId, configuration }];
}

function readActionTypeId(value: unknown, path: string, issue: Report): AwsActionTypeId | undefined {
  if (!isRecord(value)) {
    issue(path, "`actionTypeId` is required: an object with category, owner, provider and version.");
    return undefined;
  }
  let complete = true;
  for (const field of ACTION_TYPE_ID_FIELDS) {
    const part = value[field];
    if (typeof part !== "string" || part === "") {
      issue(appendPath(path, field), `\`${field}\` must be a non-empty string.`);
      complete = false;
    }
  }
  // CodePipeline's ActionTypeId has exactly these four fields; anything else could not be kept.
  for (const key of Object.keys(value)) {
    if (!(ACTION_TYPE_ID_FIELDS as readonly string[]).includes(key)) {
      issue(appendPath(path, key), "An actionTypeId has only category, owner, provider and version.");
      complete = false;
    }
  }
  if (!complete) return undefined;
  const { category, owner, provider, version } = value as Record<
    (typeof ACTION_TYPE_ID_FIELDS)[number],
    string
  >;
  return { category, owner, provider, version };
}

/** undefined: no configuration; null: a broken one (reported). */
function readConfiguration(
  value: unknown,
  path: string,
  issue: Report,
): Record<string, string> | undefined | null {
  if (value === undefined) return undefined;
  if (!isRecord(value)) {
    issue(path, "`configuration` must be an object of string keys to string values.");
    return null;
  }
  let valid = true;
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") {
      issue(
        appendPath(path, key),
        "Configuration values are strings in CodePipeline; write this one as a string.",
      );
      valid = false;
    }
  }
  return valid ? (value as Record<string, string>) : null;
}

/**
 * What the AWS export writes when the pipeline kept no pipelineType or version of its own; the
 * import keeps these two only when they differ, so a Sluice export imports back unchanged.
 */
export const DEFAULT_PIPELINE_TYPE = "V2";
export const DEFAULT_PIPELINE_VERSION = 1;
