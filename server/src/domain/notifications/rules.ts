import type { ValidationIssue } from "../errors";
import { NOTIFICATION_EVENT_TYPES, type NotificationEventType, type NotifiedEvent } from "./events";
import { TARGET_NAME } from "./targets";

export const DETAIL_LEVELS = ["BASIC", "FULL"] as const;
export type DetailLevel = (typeof DETAIL_LEVELS)[number];

export interface RuleFilter {
  /** Only events of these stages (and execution events of executions that ran them do not count). */
  stageNames?: string[] | null;
  /** Only executions whose source revisions were on one of these branches. */
  branches?: string[] | null;
}

export interface RuleInput {
  name: string;
  /** null: every pipeline, present and future. */
  pipelineName: string | null;
  eventTypes: string[];
  filter: RuleFilter | null;
  detailLevel: DetailLevel;
  enabled: boolean;
  targetIds: string[];
}

export interface MatchableRule {
  pipelineName: string | null;
  eventTypes: readonly string[];
  filter: RuleFilter | null;
  enabled: boolean;
}

/** The facts of the execution an event belongs to that filters look at. */
export interface EventContext {
  branches: string[];
}

export function ruleIssues(input: RuleInput, base = "input"): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const at = (field: string, message: string) => issues.push({ path: `${base}.${field}`, message });
  if (!TARGET_NAME.test(input.name)) at("name", "must be 1–100 characters from A-Z a-z 0-9 . _ -");
  if (input.eventTypes.length === 0) at("eventTypes", "needs at least one event type");
  input.eventTypes.forEach((type, i) => {
    if (!(NOTIFICATION_EVENT_TYPES as readonly string[]).includes(type)) {
      at(`eventTypes[${i}]`, `"${type.slice(0, 64)}" is not an event type a rule can match`);
    }
  });
  if (new Set(input.eventTypes).size !== input.eventTypes.length) at("eventTypes", "lists a type twice");
  if (!(DETAIL_LEVELS as readonly string[]).includes(input.detailLevel)) {
    at("detailLevel", "must be BASIC or FULL");
  }
  if (input.targetIds.length === 0) at("targetIds", "needs at least one target");
  if (input.targetIds.length > 20) at("targetIds", "may hold at most 20 targets");
  for (const key of ["stageNames", "branches"] as const) {
    const values = input.filter?.[key] ?? [];
    if (values.length > 50) at(`filter.${key}`, "may hold at most 50 values");
    values.forEach((value, i) => {
      if (value.length === 0 || value.length > 255) at(`filter.${key}[${i}]`, "must be 1–255 characters");
    });
  }
  return issues;
}

/**
 * Whether a rule wants this event. A stage filter passes only events of those stages (events
 * without a stage — an execution's start or end — pass when the filter names no stage); a branch
 * filter passes events of executions that built one of those branches, and definition events.
 */
export function ruleMatches(
  rule: MatchableRule,
  type: NotificationEventType,
  event: NotifiedEvent,
  context: EventContext,
): boolean {
  if (!rule.enabled || !rule.eventTypes.includes(type)) return false;
  if (rule.pipelineName !== null && rule.pipelineName !== event.pipelineName) return false;
  const stages = rule.filter?.stageNames ?? [];
  if (stages.length > 0 && (event.stageName === undefined || !stages.includes(event.stageName))) return false;
  const branches = rule.filter?.branches ?? [];
  if (branches.length > 0 && event.executionId !== null) {
    if (!context.branches.some((branch) => branches.includes(branch))) return false;
  }
  return true;
}
