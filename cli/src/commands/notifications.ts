import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { allNodes, PAGE_FIELDS, type Page } from "../pagination";
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

export const CREATE_NOTIFICATION_TARGET_MUTATION = `mutation($target:NotificationTargetInput!){ createNotificationTargetV2(input:{target:$target}){ notificationTarget{ ${TARGET_FIELDS} } } }`;
export const CREATE_NOTIFICATION_RULE_MUTATION = `mutation($rule:NotificationRuleInput!){ createNotificationRuleV2(input:{rule:$rule}){ notificationRule{ ${RULE_FIELDS} } } }`;
export const LIST_NOTIFICATION_RULES_QUERY = `query($pipelineName:String,$first:Int!,$after:String){ notificationRulesV2(pipelineName:$pipelineName,first:$first,after:$after){ nodes{ ${RULE_FIELDS} } ${PAGE_FIELDS} } }`;
export const TEST_NOTIFICATION_RULE_MUTATION = `mutation($id:ID!){ testNotificationRuleV2(input:{id:$id}){ notificationDeliveries{ ${DELIVERY_FIELDS} } } }`;

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
      const data = await ctx.request<{ createNotificationTargetV2: { notificationTarget: unknown } }>(
        CREATE_NOTIFICATION_TARGET_MUTATION,
        {
          target,
        },
      );
      ctx.print({ notificationTarget: data.createNotificationTargetV2.notificationTarget });
    });

  program
    .command("create-notification-rule")
    .description("Create a notification rule. Prints { notificationRule }.")
    .requiredOption("--cli-input-json <json>", "file://path, - (stdin) or the JSON itself")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { cliInputJson } = command.opts<{ cliInputJson: string }>();
      const rule = unwrapped(await ctx.readInput(cliInputJson), "rule");
      const data = await ctx.request<{ createNotificationRuleV2: { notificationRule: unknown } }>(
        CREATE_NOTIFICATION_RULE_MUTATION,
        {
          rule,
        },
      );
      ctx.print({ notificationRule: data.createNotificationRuleV2.notificationRule });
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
      const notificationRules = await allNodes(
        async (first, after) =>
          (
            await ctx.request<{ notificationRulesV2: Page<unknown> }>(LIST_NOTIFICATION_RULES_QUERY, {
              pipelineName: pipelineName ?? null,
              first,
              after,
            })
          ).notificationRulesV2,
      );
      ctx.print({ notificationRules });
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
      const data = await ctx.request<{ testNotificationRuleV2: { notificationDeliveries: unknown[] } }>(
        TEST_NOTIFICATION_RULE_MUTATION,
        {
          id,
        },
      );
      ctx.print({ deliveries: data.testNotificationRuleV2.notificationDeliveries });
    });
}
