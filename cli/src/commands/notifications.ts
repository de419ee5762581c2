import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { UsageError } from "../errors";

/*
 * Notification rules and targets (docs/notifications.md). The inputs are the GraphQL input types
 * as JSON, bare or wrapped (`{ "rule": { ... } }`, `{ "target": { ... } }`); secrets come back `****`.
 */

export const TARGET_FIELDS =
  "id name kind url secret headers{ name value } emailAddresses subject natsSubject circuit{ open consecutiveFailures openUntil lastError }";
export const RULE_FIELDS =
  "id name pipelineName eventTypes filter{ stageNames branches } detailLevel enabled targetIds circuitOpen";
export const DELIVERY_FIELDS = "id ruleName targetName eventType status attempts link";

export const CREATE_NOTIFICATION_TARGET_MUTATION = `mutation($target:NotificationTargetInput!){ createNotificationTarget(target:$target){ ${TARGET_FIELDS} } }`;
export const CREATE_NOTIFICATION_RULE_MUTATION = `mutation($rule:NotificationRuleInput!){ createNotificationRule(rule:$rule){ ${RULE_FIELDS} } }`;
export const LIST_NOTIFICATION_RULES_QUERY = `query($pipelineName:String){ notificationRules(pipelineName:$pipelineName){ ${RULE_FIELDS} } }`;
export const TEST_NOTIFICATION_RULE_MUTATION = `mutation($id:ID!){ testNotificationRule(id:$id){ ${DELIVERY_FIELDS} } }`;

function unwrapped(input: unknown, key: "rule" | "target"): Record<string, unknown> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new UsageError(`--cli-input-json: expected a JSON object (a ${key}, or { "${key}": { ... } })`);
  }
  const value = input as Record<string, unknown>;
  const inner = value[key];
  if (Object.keys(value).length === 1 && inner !== undefined) {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) {
      throw new UsageError(`--cli-input-json: "${key}" must be a JSON object`);
    }
    return inner as Record<string, unknown>;
  }
  return value;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("create-notification-target")
    .description(
      "Create a notification target (WEBHOOK, SLACK, TEAMS, EMAIL or NATS). Prints { notificationTarget } with secrets as ****.",
    )
    .requiredOption("--cli-input-json <json>", "file://path, - (stdin) or the JSON itself")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { cliInputJson } = command.opts<{ cliInputJson: string }>();
      const target = unwrapped(await ctx.readInput(cliInputJson), "target");
      const data = await ctx.request<{ createNotificationTarget: unknown }>(
        CREATE_NOTIFICATION_TARGET_MUTATION,
        {
          target,
        },
      );
      ctx.print({ notificationTarget: data.createNotificationTarget });
    });

  program
    .command("create-notification-rule")
    .description("Create a notification rule. Prints { notificationRule }.")
    .requiredOption("--cli-input-json <json>", "file://path, - (stdin) or the JSON itself")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { cliInputJson } = command.opts<{ cliInputJson: string }>();
      const rule = unwrapped(await ctx.readInput(cliInputJson), "rule");
      const data = await ctx.request<{ createNotificationRule: unknown }>(CREATE_NOTIFICATION_RULE_MUTATION, {
        rule,
      });
      ctx.print({ notificationRule: data.createNotificationRule });
    });

  program
    .command("list-notification-rules")
    .description(
      "List notification rules by name (with --pipeline-name: that pipeline's and every pipeline's). Prints { notificationRules }.",
    )
    .option("--pipeline-name <name>", "only rules that apply to this pipeline")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { pipelineName } = command.opts<{ pipelineName?: string }>();
      const data = await ctx.request<{ notificationRules: unknown[] }>(LIST_NOTIFICATION_RULES_QUERY, {
        pipelineName: pipelineName ?? null,
      });
      ctx.print({ notificationRules: data.notificationRules });
    });

  program
    .command("test-notification-rule")
    .description(
      "Send a TEST message to each target of a rule. Prints { deliveries } (see notificationDeliveries).",
    )
    .requiredOption("--id <ruleId>", "the rule's id")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { id } = command.opts<{ id: string }>();
      if (id.trim() === "") throw new UsageError("--id must not be empty");
      const data = await ctx.request<{ testNotificationRule: unknown[] }>(TEST_NOTIFICATION_RULE_MUTATION, {
        id,
      });
      ctx.print({ deliveries: data.testNotificationRule });
    });
}
