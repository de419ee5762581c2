import crypto from "node:crypto";
import { ValidationError } from "../domain/errors";
import type { NotificationEventType } from "../domain/notifications/events";
import { ruleIssues, type RuleInput } from "../domain/notifications/rules";
import {
  MASK,
  mergedSettings,
  targetIssues,
  type TargetInput,
  type TargetSettings,
} from "../domain/notifications/targets";
import type { DeliveryRow, NotificationStore, RuleRow, TargetRow } from "../persistence/notification-store";
import type { DeliveryListener, DeliveryWorker } from "./delivery-worker";
import type { NotificationSettings } from "./settings";

/**
 * What the GraphQL resolvers call: validated changes of rules and targets, tests, redeliveries,
 * each in an account (the caller's acting account): another account's rule, target or delivery is
 * as unknown.
 */
export class NotificationService {
  constructor(
    readonly store: NotificationStore,
    private readonly worker: DeliveryWorker,
    private readonly settings: NotificationSettings,
  ) {}

  async createTarget(account: string, input: TargetInput, by: string, path = "target"): Promise<TargetRow> {
    if (input.kind === "WEBHOOK" && input.secret === MASK) {
      throw new ValidationError([
        { path: `${path}.secret`, message: "**** keeps a stored secret; a new target has none" },
      ]);
    }
    this.check(input, path);
    return this.store.createTarget(account, input.name, input.kind, settingsOf(input), by);
  }

  /** Replaces a target's settings; `****` keeps a stored secret, URL or header value. Its kind stays. */
  async updateTarget(account: string, id: string, input: TargetInput, path = "target"): Promise<TargetRow> {
    const stored = await this.store.requireTarget(account, id);
    if (input.kind !== stored.kind) {
      throw new ValidationError([
        { path: `${path}.kind`, message: `a target's kind does not change (it is ${stored.kind})` },
      ]);
    }
    const merged = mergedSettings(stored.settings, settingsOf(input), stored.kind);
    this.check({ ...input, ...merged }, path);
    return this.store.updateTarget(account, id, input.name, merged);
  }

  async saveRule(
    account: string,
    id: string | null,
    input: RuleInput,
    by: string,
    path = "rule",
  ): Promise<RuleRow> {
    const issues = ruleIssues(input, path);
    if (issues.length > 0) throw new ValidationError(issues);
    return this.store.saveRule(
      account,
      id,
      { ...input, eventTypes: input.eventTypes, filter: normalizedFilter(input.filter) },
      by,
      path,
    );
  }

  /** One TEST delivery per target of the rule, sent like any other. */
  async testRule(account: string, id: string, by: string): Promise<DeliveryRow[]> {
    const rule = await this.store.requireRule(account, id);
    const eventKey = `test:${crypto.randomUUID()}`;
    const ids = await this.store.insertDeliveries(
      null,
      rule.targetIds.map((targetId) => ({
        account: rule.account,
        eventKey,
        ruleId: rule.id,
        ruleName: rule.name,
        targetId,
        pipelineName: rule.pipelineName ?? "*",
        eventType: "TEST",
        executionId: null,
        notification: {
          type: "TEST" as NotificationEventType | "TEST",
          event: {
            pipelineName: rule.pipelineName ?? "*",
            type: "TEST",
            executionId: null,
            sequence: null,
            by,
            at: new Date().toISOString(),
          },
          execution: null,
          rule: { id: rule.id, name: rule.name, detailLevel: rule.detailLevel },
        },
        giveUpAt: new Date(Date.now() + this.settings.retryForMs),
      })),
    );
    this.worker.kick();
    await this.worker.announce(ids);
    return this.store.findDeliveries(ids);
  }

  async redeliver(account: string, id: string): Promise<DeliveryRow> {
    const row = await this.store.redeliver(account, id, new Date(Date.now() + this.settings.retryForMs));
    this.worker.kick();
    await this.worker.announce([row.id]);
    return row;
  }

  /** The base of the links in messages (the dashboard). */
  get dashboardUrl(): string {
    return this.settings.dashboardUrl;
  }

  onDelivery(listener: DeliveryListener): () => void {
    return this.worker.onDelivery(listener);
  }

  natsSubjectOf(subject: string): string {
    return this.worker.natsSubjectOf(subject);
  }

  private check(input: TargetInput, path: string): void {
    const issues = targetIssues(
      input,
      { allowHttp: this.settings.allowHttp, allowPrivate: this.settings.allowPrivate },
      path,
    );
    if (issues.length > 0) throw new ValidationError(issues);
  }
}

function settingsOf(input: TargetInput): TargetSettings {
  return {
    url: input.url ?? null,
    // Left out (undefined) keeps a stored secret on update (mergedSettings); null removes it.
    secret: input.secret,
    headers: input.headers ?? null,
    emailAddresses: input.emailAddresses ?? null,
    subject: input.subject ?? null,
  };
}

function normalizedFilter(filter: RuleInput["filter"]): RuleInput["filter"] {
  const stageNames = filter?.stageNames ?? [];
  const branches = filter?.branches ?? [];
  return stageNames.length === 0 && branches.length === 0 ? null : { stageNames, branches };
}
