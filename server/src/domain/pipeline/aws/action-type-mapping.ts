/**
 * The heart of the import: an AWS action type and its configuration → the Sluice action type and
 * configuration. Pure and registry-free, so the export can run it again to tell whether an
 * imported action still is what its kept AWS original describes.
 *
 * - Git-like sources (source-providers.ts) → `Source/Sluice/Git@1`.
 * - `Approval/AWS/Manual@1` → `Approval/Sluice/Manual@1`.
 * - Every other AWS or ThirdParty provider → owner `Custom`, same category/provider/version,
 *   configuration as is (a job worker can implement it); the Compute category becomes Build.
 * - Owners Sluice and Custom (and unknown owners, left for validation to reject) are unchanged.
 */
import type { PathSegment } from "../paths";
import type { AwsActionTypeId } from "./declaration";
import { findSourceProviderRule, type SourceProviderRule } from "./source-providers";

export interface TypeMappingNote {
  /** Relative to the action: `["actionTypeId"]`, `["configuration", "BranchName"]`. */
  at: PathSegment[];
  message: string;
}

export interface TypeMapping {
  actionTypeId: AwsActionTypeId;
  configuration: Record<string, string>;
  /** The type changed: the import keeps the original type and configuration in awsMetadata. */
  converted: boolean;
  /** The target is a Custom type; its configuration may still lose keys the type cannot declare. */
  customTarget: boolean;
  notes: TypeMappingNote[];
}

const SLUICE_GIT = { category: "Source", owner: "Sluice", provider: "Git", version: "1" } as const;
const SLUICE_MANUAL = { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" } as const;
/** Keys of Approval/AWS/Manual that Sluice's Manual approval has too. */
const MANUAL_KEYS: ReadonlySet<string> = new Set(["CustomData", "ExternalEntityLink"]);

export function mapActionType(
  type: AwsActionTypeId,
  configuration: Readonly<Record<string, string>>,
): TypeMapping {
  if (type.owner !== "AWS" && type.owner !== "ThirdParty") {
    return {
      actionTypeId: { ...type },
      configuration: { ...configuration },
      converted: false,
      customTarget: type.owner === "Custom",
      notes: [],
    };
  }
  const source =
    type.category === "Source" && type.version === "1"
      ? findSourceProviderRule(type.owner, type.provider)
      : undefined;
  if (source !== undefined) return mapSource(type, source, configuration);
  if (
    type.category === "Approval" &&
    type.owner === "AWS" &&
    type.provider === "Manual" &&
    type.version === "1"
  ) {
    return mapManualApproval(type, configuration);
  }
  return mapToCustom(type, configuration);
}

export function describeType(type: AwsActionTypeId): string {
  return `${type.category}/${type.owner}/${type.provider}@${type.version}`;
}

function converted(type: AwsActionTypeId, target: AwsActionTypeId): TypeMappingNote {
  return {
    at: ["actionTypeId"],
    message: `${describeType(type)} is imported as ${describeType(target)}; the original actionTypeId and configuration are kept in awsMetadata for the AWS export.`,
  };
}

function keptOnlyInMetadata(key: string, why = "has no Sluice equivalent"): TypeMappingNote {
  return {
    at: ["configuration", key],
    message: `${key} ${why}: it is kept only in awsMetadata, for the AWS export.`,
  };
}

function mapSource(
  type: AwsActionTypeId,
  rule: SourceProviderRule,
  original: Readonly<Record<string, string>>,
): TypeMapping {
  const notes = [converted(type, SLUICE_GIT)];
  const configuration: Record<string, string> = {};
  const repository = rule.repository(original);
  const firstRepositoryKey = rule.repositoryKeys[0] ?? "";
  if (repository === undefined) {
    notes.push({
      at: ["configuration"],
      message: `The configuration lacks ${rule.repositoryKeys.join(" and ")}, so Repository could not be derived; set it to the clone URL.`,
    });
  } else {
    configuration["Repository"] = repository;
    notes.push({ at: ["configuration", firstRepositoryKey], message: rule.repositoryNote });
  }
  const branch = original[rule.branchKey];
  if (branch !== undefined) {
    configuration["Branch"] = branch;
    if (rule.branchKey !== "Branch")
      notes.push({ at: ["configuration", rule.branchKey], message: `${rule.branchKey} becomes Branch.` });
  }
  const detectChanges = original["DetectChanges"] ?? original["PollForSourceChanges"];
  if (detectChanges !== undefined) configuration["DetectChanges"] = detectChanges;

  const consumed = new Set([...rule.repositoryKeys, rule.branchKey, "DetectChanges"]);
  for (const key of Object.keys(original)) {
    if (consumed.has(key)) continue;
    if (key === "PollForSourceChanges" && original["DetectChanges"] === undefined) {
      notes.push({
        at: ["configuration", key],
        message:
          "PollForSourceChanges becomes DetectChanges: whether Sluice watches the branch for new commits.",
      });
    } else {
      notes.push(keptOnlyInMetadata(key));
    }
  }
  return { actionTypeId: { ...SLUICE_GIT }, configuration, converted: true, customTarget: false, notes };
}

function mapManualApproval(type: AwsActionTypeId, original: Readonly<Record<string, string>>): TypeMapping {
  const notes = [converted(type, SLUICE_MANUAL)];
  const configuration: Record<string, string> = {};
  for (const [key, value] of Object.entries(original)) {
    if (MANUAL_KEYS.has(key)) configuration[key] = value;
    else if (key === "NotificationArn")
      notes.push(
        keptOnlyInMetadata(
          key,
          "is an SNS topic, which Sluice does not notify (it has its own notification events)",
        ),
      );
    else notes.push(keptOnlyInMetadata(key));
  }
  return { actionTypeId: { ...SLUICE_MANUAL }, configuration, converted: true, customTarget: false, notes };
}

/**
 * CodePipeline categories Sluice lacks, and the Sluice category that does the same work: the
 * `Compute` category of AWS's Commands action runs shell commands, as Build actions do.
 */
const CATEGORY_FALLBACKS: Readonly<Record<string, string>> = { Compute: "Build" };

function mapToCustom(type: AwsActionTypeId, original: Readonly<Record<string, string>>): TypeMapping {
  const category = CATEGORY_FALLBACKS[type.category] ?? type.category;
  const target = { ...type, category, owner: "Custom" };
  const recategorized =
    category === type.category
      ? ""
      : ` (Sluice has no ${type.category} category; ${category} is the closest)`;
  const note: TypeMappingNote = {
    at: ["actionTypeId"],
    message: `${describeType(type)} has no Sluice built-in: it is imported as the Custom type ${describeType(target)}${recategorized}, run by a job worker for that type, with its configuration as is; the original actionTypeId is kept in awsMetadata for the AWS export.`,
  };
  return {
    actionTypeId: target,
    configuration: { ...original },
    converted: true,
    customTarget: true,
    notes: [note],
  };
}
