/**
 * Trigger push filters (PIPELINE-MODEL.md, "Triggers"): at most 3 push filters per trigger and 8
 * patterns per includes/excludes list (quotas), and each filter names branches or tags — a
 * filePaths filter alone would match no push. Each pattern is 1–255 characters (CodePipeline's
 * bound; the model is silent).
 */
import type { GitFilterPatterns } from "../../document";
import {
  MAX_FILTER_PATTERN_LENGTH,
  MAX_PATTERNS_PER_FILTER_LIST,
  MAX_PUSH_FILTERS_PER_TRIGGER,
} from "../../../limits";
import { quote } from "../../paths";
import type { ValidationContext } from "../context";

const FILTER_FIELDS = ["branches", "filePaths", "tags"] as const;

export function triggerFiltersRule(ctx: ValidationContext): void {
  ctx.document.triggers.forEach((trigger, i) => {
    const at = `triggers[${i}].gitConfiguration.push`;
    const { push } = trigger.gitConfiguration;
    if (push.length > MAX_PUSH_FILTERS_PER_TRIGGER) {
      ctx.report(
        at,
        `A trigger has at most ${MAX_PUSH_FILTERS_PER_TRIGGER} push filters; this one has ${push.length}.`,
        {
          limit: true,
        },
      );
    }
    push.forEach((filter, j) => {
      if (filter.branches === null && filter.tags === null) {
        ctx.report(
          `${at}[${j}]`,
          "A push filter needs branches or tags (filePaths alone match no push); add one of them.",
        );
      }
      for (const field of FILTER_FIELDS) {
        const patterns = filter[field];
        if (patterns) checkPatterns(ctx, patterns, `${at}[${j}].${field}`);
      }
    });
  });
}

function checkPatterns(ctx: ValidationContext, patterns: GitFilterPatterns, at: string): void {
  for (const list of ["includes", "excludes"] as const) {
    const values = patterns[list];
    if (values.length > MAX_PATTERNS_PER_FILTER_LIST) {
      ctx.report(
        `${at}.${list}`,
        `A filter list has at most ${MAX_PATTERNS_PER_FILTER_LIST} patterns; this one has ${values.length}.`,
        { limit: true },
      );
    }
    values.forEach((pattern, k) => {
      if (pattern.length === 0 || pattern.length > MAX_FILTER_PATTERN_LENGTH) {
        ctx.report(
          `${at}.${list}[${k}]`,
          `Pattern ${quote(pattern)} is ${pattern.length} characters long; patterns are 1 to ${MAX_FILTER_PATTERN_LENGTH} characters.`,
        );
      }
    });
  }
}
