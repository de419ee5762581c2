/**
 * Which kind of document `importPipeline` received: Sluice's own, or the JSON that
 * `aws codepipeline get-pipeline` prints. The signals are fields Sluice documents never have.
 */
import { isRecord } from "./json";

export type DocumentFormat = "SLUICE" | "AWS";

/** Pipeline-level fields only CodePipeline declarations carry. */
const AWS_ONLY_PIPELINE_FIELDS = ["roleArn", "artifactStore", "artifactStores", "pipelineType"] as const;

/** Owners CodePipeline has and Sluice does not (Sluice has `Sluice` and `Custom`). */
const AWS_ONLY_OWNERS: ReadonlySet<unknown> = new Set(["AWS", "ThirdParty"]);

export function detectDocumentFormat(json: unknown): DocumentFormat {
  if (!isRecord(json)) return "SLUICE"; // Not a document at all: Sluice's own validation says why.
  if (Object.prototype.hasOwnProperty.call(json, "pipeline")) return "AWS";
  if (AWS_ONLY_PIPELINE_FIELDS.some((field) => json[field] !== undefined)) return "AWS";
  // AWS versions the declaration with a number; Sluice documents have no `version`.
  if (typeof json["version"] === "number") return "AWS";
  return hasAwsOwner(json["stages"]) ? "AWS" : "SLUICE";
}

function hasAwsOwner(stages: unknown): boolean {
  if (!Array.isArray(stages)) return false;
  return stages.some(
    (stage: unknown) =>
      isRecord(stage) &&
      Array.isArray(stage["actions"]) &&
      stage["actions"].some(
        (action: unknown) =>
          isRecord(action) &&
          isRecord(action["actionTypeId"]) &&
          AWS_ONLY_OWNERS.has(action["actionTypeId"]["owner"]),
      ),
  );
}
