/**
 * Pipeline triggers (V2). AWS and Sluice share the shape, with two differences: AWS's
 * providerType is "CodeStarSourceConnection" where Sluice's is "Git", and AWS has pull-request
 * filters, which Sluice does not support yet. When the import changes or drops anything, the
 * original trigger list is kept in the pipeline's `awsMetadata.triggers`, and the export writes an
 * original back for every trigger it still maps to.
 */
import type { GitFilterPatterns, GitPushFilter, PipelineTrigger } from "../document";
import { appendPath } from "../paths";
import { copyJson, isRecord, jsonEqual, type JsonRecord } from "./json";
import type { WarningList } from "./warnings";

/** Where the import keeps the original trigger list in the pipeline's awsMetadata. */
export const ORIGINAL_TRIGGERS_KEY = "triggers";

const AWS_GIT_PROVIDER = "CodeStarSourceConnection";
const PUSH_FILTER_FIELDS = ["branches", "filePaths", "tags"] as const;

type Notes = ((path: string, message: string) => void) | undefined;

export interface MappedTriggers {
  /** The Sluice trigger list (JSON for validatePipeline). */
  triggers: unknown[];
  /** True when something was renamed or dropped, so the originals must be kept. */
  changed: boolean;
}

export function importTriggers(triggers: readonly unknown[], warnings: WarningList): MappedTriggers {
  let changed = false;
  const note = (path: string, message: string) => {
    changed = true;
    warnings.add(path, message);
  };
  return {
    triggers: triggers.map((trigger, index) => mapTrigger(trigger, appendPath("triggers", index), note)),
    changed,
  };
}

export function exportTriggers(current: readonly PipelineTrigger[], originals: unknown): unknown[] {
  const unused: unknown[] = Array.isArray(originals) ? [...(originals as unknown[])] : [];
  return current.map((trigger) => {
    const index = unused.findIndex((original) => jsonEqual(mapTrigger(original, "", undefined), trigger));
    return index >= 0 ? copyJson(unused.splice(index, 1)[0]) : sluiceTriggerToAws(trigger);
  });
}

/**
 * One AWS trigger → the normalized Sluice trigger. Anything not of the expected type is passed on
 * as is, for validatePipeline to report.
 */
function mapTrigger(trigger: unknown, path: string, note: Notes): unknown {
  if (!isRecord(trigger)) return trigger;
  const out: JsonRecord = {};
  for (const [key, value] of Object.entries(trigger)) {
    const at = appendPath(path, key);
    if (key === "providerType") {
      out[key] = value === AWS_GIT_PROVIDER ? "Git" : value;
      if (value === AWS_GIT_PROVIDER)
        note?.(
          at,
          `providerType ${AWS_GIT_PROVIDER} becomes Git: Sluice watches the Git source action directly.`,
        );
    } else if (key === "gitConfiguration") {
      out[key] = mapGitConfiguration(value, at, note);
    } else {
      note?.(
        at,
        `${key} is not part of a Sluice trigger: it is kept only in awsMetadata.triggers, for the AWS export.`,
      );
    }
  }
  return out;
}

function mapGitConfiguration(configuration: unknown, path: string, note: Notes): unknown {
  if (!isRecord(configuration)) return configuration;
  const out: JsonRecord = { push: [] };
  for (const [key, value] of Object.entries(configuration)) {
    const at = appendPath(path, key);
    if (key === "sourceActionName") out[key] = value;
    else if (key === "push")
      out[key] = Array.isArray(value)
        ? value.map((filter: unknown, i) => mapPushFilter(filter, appendPath(at, i), note))
        : value;
    else if (key === "pullRequest")
      note?.(
        at,
        "Sluice does not support pull request triggers yet: these filters are kept only in awsMetadata.triggers, for the AWS export.",
      );
    else
      note?.(
        at,
        `${key} is not part of a Sluice trigger: it is kept only in awsMetadata.triggers, for the AWS export.`,
      );
  }
  return out;
}

function mapPushFilter(filter: unknown, path: string, note: Notes): unknown {
  if (!isRecord(filter)) return filter;
  const out: JsonRecord = { branches: null, filePaths: null, tags: null };
  for (const [key, value] of Object.entries(filter)) {
    const at = appendPath(path, key);
    if ((PUSH_FILTER_FIELDS as readonly string[]).includes(key)) out[key] = mapPatterns(value, at, note);
    else
      note?.(
        at,
        `${key} is not a Sluice push filter: it is kept only in awsMetadata.triggers, for the AWS export.`,
      );
  }
  return out;
}

/** AWS leaves out an empty includes or excludes list; Sluice's normalized form has both. */
function mapPatterns(patterns: unknown, path: string, note: Notes): unknown {
  if (!isRecord(patterns)) return patterns;
  const out: JsonRecord = { includes: [], excludes: [] };
  for (const [key, value] of Object.entries(patterns)) {
    if (key === "includes" || key === "excludes") out[key] = value;
    else
      note?.(
        appendPath(path, key),
        `${key} is not a Sluice filter list: it is kept only in awsMetadata.triggers, for the AWS export.`,
      );
  }
  return out;
}

/** A Sluice trigger in AWS form: empty lists and missing filters left out, as AWS prints them. */
function sluiceTriggerToAws(trigger: PipelineTrigger): JsonRecord {
  return {
    providerType: trigger.providerType,
    gitConfiguration: {
      sourceActionName: trigger.gitConfiguration.sourceActionName,
      push: trigger.gitConfiguration.push.map(pushFilterToAws),
    },
  };
}

function pushFilterToAws(filter: GitPushFilter): JsonRecord {
  const out: JsonRecord = {};
  for (const field of PUSH_FILTER_FIELDS) {
    const patterns = filter[field];
    if (patterns !== null) out[field] = patternsToAws(patterns);
  }
  return out;
}

function patternsToAws(patterns: GitFilterPatterns): JsonRecord {
  const out: JsonRecord = {};
  if (patterns.includes.length > 0) out["includes"] = [...patterns.includes];
  if (patterns.excludes.length > 0) out["excludes"] = [...patterns.excludes];
  return out;
}
