import type { DataSource } from "typeorm";
import { notificationTypeOf } from "../domain/notifications/events";
import type { ExecutionFacts } from "../domain/notifications/messages";
import { ruleMatches } from "../domain/notifications/rules";
import { DEFAULT_ACCOUNT } from "../domain/policy/srn";
import type {
  ExecutionRecord,
  NewDelivery,
  NotificationStore,
  UserWithPolicies,
} from "../persistence/notification-store";
import { approvalSrn, approversOf } from "./approvers";

/**
 * Turns the inbox (pipeline events the outbox trigger copied, in the engine's own transactions)
 * into deliveries: one per event, matching rule and target. The events are taken and the
 * deliveries written in one transaction, so a crash in between loses nothing and a redispatch
 * adds nothing (the deliveries' unique key is event × rule × target). Copies take disjoint
 * batches (SKIP LOCKED).
 *
 * An APPROVAL_NEEDED event that a rule matches also goes, by e-mail, to each user allowed to
 * approve it (sluice:PutApprovalResult on the action's SRN, their policies and their groups') who
 * has an address: one delivery per user however many rules matched (unique event × recipient).
 */
export async function dispatchInbox(
  db: DataSource,
  store: NotificationStore,
  options: { batch: number; retryForMs: number },
): Promise<{ taken: number; deliveryIds: string[] }> {
  return db.transaction(async (m) => {
    const events = await store.takeInbox(m, options.batch);
    if (events.length === 0) return { taken: 0, deliveryIds: [] };
    const rules = await store.activeRules(m);
    const executionIds = [...new Set(events.map((e) => e.event.executionId).filter((id) => id !== null))];
    const executions = await store.executions(m, executionIds);
    const giveUpAt = new Date(Date.now() + options.retryForMs);
    const deliveries: NewDelivery[] = [];
    const users: Record<string, UserWithPolicies[]> = {};
    for (const { msgId, event } of events) {
      // A rule gets the events of its own account's pipelines only (docs/policies.md), whatever
      // its pipeline name says: another account's `web` is not its `web`.
      const account = event.account ?? DEFAULT_ACCOUNT;
      const record = event.executionId ? (executions.get(event.executionId) ?? null) : null;
      const type = notificationTypeOf(event, record);
      if (type === null) continue;
      const execution = record ? factsOf(record) : null;
      let approversDone = false;
      for (const rule of rules) {
        if (rule.account !== account) continue;
        if (!ruleMatches(rule, type, event, { branches: execution?.branches ?? [] })) continue;
        if (
          type === "APPROVAL_NEEDED" &&
          !approversDone &&
          event.executionId &&
          event.actionExecutionId &&
          event.stageName &&
          event.actionName
        ) {
          approversDone = true;
          // The users of the pipeline's account whom the checker would let approve.
          const approvers = approversOf(
            (users[account] ??= await store.usersWithEmail(m, account)),
            approvalSrn(account, event.pipelineName, event.stageName, event.actionName),
          );
          const configuration =
            approvers.length > 0
              ? await store.actionConfiguration(m, event.executionId, event.actionExecutionId)
              : null;
          const text = (key: string) => {
            const value = configuration?.[key];
            return typeof value === "string" && value.length > 0 ? value : null;
          };
          for (const approver of approvers) {
            deliveries.push({
              account,
              eventKey: msgId,
              ruleId: rule.id,
              ruleName: rule.name,
              targetId: null,
              recipient: approver,
              pipelineName: event.pipelineName,
              eventType: type,
              executionId: event.executionId,
              notification: {
                type,
                event,
                execution,
                rule: { id: rule.id, name: rule.name, detailLevel: rule.detailLevel },
                approval: {
                  customData: text("CustomData"),
                  externalEntityLink: text("ExternalEntityLink"),
                },
              },
              giveUpAt,
            });
          }
        }
        for (const targetId of rule.targetIds) {
          deliveries.push({
            account,
            eventKey: msgId,
            ruleId: rule.id,
            ruleName: rule.name,
            targetId,
            pipelineName: event.pipelineName,
            eventType: type,
            executionId: event.executionId,
            notification: {
              type,
              event,
              execution,
              rule: { id: rule.id, name: rule.name, detailLevel: rule.detailLevel },
            },
            giveUpAt,
          });
        }
      }
    }
    return { taken: events.length, deliveryIds: await store.insertDeliveries(m, deliveries) };
  });
}

function factsOf(record: ExecutionRecord): ExecutionFacts {
  const reported = Object.values(record.view.outputVariables ?? {})
    .map((vars) => vars?.BranchName)
    .filter((branch): branch is string => typeof branch === "string" && branch.length > 0);
  return {
    status: record.status,
    statusSummary: record.view.statusSummary ?? null,
    triggerType: record.triggerType,
    triggerDetail: record.view.trigger?.triggerDetail ?? null,
    sourceRevisions: record.view.sourceRevisions ?? [],
    branches: [...new Set([...reported, ...record.configuredBranches])],
  };
}
