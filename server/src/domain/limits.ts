/**
 * Every number of PIPELINE-MODEL.md's quota table, plus the few value bounds the model states in
 * its prose (runOrder, configuration sizes, trigger filters). Validation reports breaking a quota
 * as an issue with `limit: true`, which the API turns into LIMIT_EXCEEDED.
 */
import type { ActionCategory, ActionTypeId } from "./pipeline/document";

// ── Quota table ─────────────────────────────────────────────────────────────────────────────────

/** Stages per pipeline: 2–50. Fewer than 2 is a structure error (rule 1), more than 50 a quota. */
export const MIN_STAGES_PER_PIPELINE = 2;
export const MAX_STAGES_PER_PIPELINE = 50;

/** Actions per stage: 1–50. An empty stage is a structure error (rule 6), more than 50 a quota. */
export const MIN_ACTIONS_PER_STAGE = 1;
export const MAX_ACTIONS_PER_STAGE = 50;

/** Actions with the same runOrder in one stage (they run in parallel). */
export const MAX_PARALLEL_ACTIONS_PER_STAGE = 50;

export const MAX_ACTIONS_PER_PIPELINE = 500;

export const MAX_PIPELINE_VARIABLES = 50;

/** Input / output artifacts per action are bounded by the action type; custom types may declare at most 5. */
export const MAX_CUSTOM_ARTIFACTS_PER_ACTION = 5;

export const MAX_CUSTOM_ACTION_TYPES = 50;

export const MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES = 10;

/** "100 KB" of JSON, counted as UTF-8 bytes of the document's JSON text (102,400 bytes). */
export const MAX_PIPELINE_DOCUMENT_BYTES = 100 * 1024;

/** Manual approval timeout: 7 days. Also the longest timeoutInMinutes an Approval action may set. */
export const MAX_APPROVAL_TIMEOUT_MINUTES = 7 * 24 * 60;

/** Default timeout of built-in Build/Test/Deploy/Invoke actions: 8 hours. */
export const DEFAULT_ACTION_TIMEOUT_MINUTES = 8 * 60;

/** Default timeout of actions of a Custom action type: 24 hours. */
export const DEFAULT_CUSTOM_ACTION_TIMEOUT_MINUTES = 24 * 60;

/** Execution history kept, in months (configurable by the installation; this is the default). */
export const DEFAULT_EXECUTION_HISTORY_MONTHS = 12;

/** Pipelines per installation (configurable by the installation; this is the default). */
export const DEFAULT_MAX_PIPELINES = 1000;

// ── Timeouts an action may set (timeoutInMinutes) ───────────────────────────────────────────────

/** The shortest timeoutInMinutes, as in CodePipeline's API (5 minutes). */
export const MIN_ACTION_TIMEOUT_MINUTES = 5;

/**
 * The longest timeoutInMinutes of every category but Approval: 3 days, the longest per-provider
 * action timeout AWS CodePipeline has. The model only says "AWS uses 1 h–3 days per provider";
 * Sluice takes the top of that range so no imported pipeline loses its timeout. It is above both
 * defaults (8 h built-in, 24 h custom), so a default timeout is always a valid explicit one.
 */
export const MAX_ACTION_TIMEOUT_MINUTES = 3 * 24 * 60;

// ── Bounds stated in the model's prose ──────────────────────────────────────────────────────────

export const MIN_RUN_ORDER = 1;
export const MAX_RUN_ORDER = 999;

export const MAX_CONFIGURATION_KEY_LENGTH = 50;
export const MAX_CONFIGURATION_VALUE_LENGTH = 1000;
/** A pipeline variable's value (default or override): what a job carries (PROTOCOL.md 5.1). */
export const MAX_VARIABLE_VALUE_LENGTH = 1000;
/** A source revision given at a start, as a job carries it (PROTOCOL.md 5.1). */
export const MAX_REVISION_ID_LENGTH = 1500;
export const MAX_REVISION_SUMMARY_LENGTH = 2048;
export const MAX_URL_LENGTH = 2048;

export const MAX_PUSH_FILTERS_PER_TRIGGER = 3;
export const MAX_PATTERNS_PER_FILTER_LIST = 8;
/** Not in the model: CodePipeline's length bound for one Git filter pattern. */
export const MAX_FILTER_PATTERN_LENGTH = 255;

export const MAX_TRANSITION_REASON_LENGTH = 300;
export const MAX_APPROVAL_SUMMARY_LENGTH = 512;
/** Output variables of one action, together. */
export const MAX_OUTPUT_VARIABLES_BYTES = 120 * 1024;

// ── Timeout helpers ─────────────────────────────────────────────────────────────────────────────

/** The longest timeoutInMinutes an action of this category may set. */
export function maxTimeoutInMinutes(category: ActionCategory): number {
  return category === "Approval" ? MAX_APPROVAL_TIMEOUT_MINUTES : MAX_ACTION_TIMEOUT_MINUTES;
}

/**
 * The timeout an action gets when its timeoutInMinutes is null. The model names no default for
 * Source actions; Sluice gives built-in sources the same 8 hours as the other built-ins.
 */
export function defaultTimeoutInMinutes(id: Pick<ActionTypeId, "category" | "owner">): number {
  if (id.category === "Approval") return MAX_APPROVAL_TIMEOUT_MINUTES;
  return id.owner === "Custom" ? DEFAULT_CUSTOM_ACTION_TIMEOUT_MINUTES : DEFAULT_ACTION_TIMEOUT_MINUTES;
}
