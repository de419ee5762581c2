import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
  UseMiddleware,
} from "type-graphql";
import { NotFoundError } from "../../domain/errors";
import { dashboardLink, statusMessage } from "../../domain/notifications/messages";
import type { RuleInput } from "../../domain/notifications/rules";
import { visibleSettings } from "../../domain/notifications/targets";
import type { DeliveryRow, DeliveryStatus, RuleRow, TargetRow } from "../../persistence/notification-store";
import { asyncQueue } from "../async-queue";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { PAGE_ARG_DESCRIPTIONS, pageQuery, toConnection } from "../types/connection";
import {
  NotificationAttemptType,
  NotificationDeliveryConnection,
  NotificationDeliveryStatusEnum,
  NotificationDeliveryType,
  NotificationRuleInput,
  NotificationRuleType,
  NotificationTargetInput,
  NotificationTargetType,
} from "../types/notification.type";

export function targetView(ctx: GraphQLContext, row: TargetRow): NotificationTargetType {
  const settings = visibleSettings(row.kind, row.settings);
  const openUntil = row.circuitOpenUntil ? new Date(row.circuitOpenUntil) : null;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    url: settings.url ?? null,
    secret: settings.secret ?? null,
    headers: settings.headers ?? null,
    emailAddresses: settings.emailAddresses ?? null,
    subject: settings.subject ?? null,
    natsSubject:
      row.kind === "NATS" && row.settings.subject
        ? ctx.notifications.natsSubjectOf(row.settings.subject)
        : null,
    circuit: {
      open: openUntil !== null && openUntil.getTime() > Date.now(),
      consecutiveFailures: row.consecutiveFailures,
      openUntil,
      lastError: row.lastError,
    },
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function ruleView(row: RuleRow): NotificationRuleType {
  return {
    ...row,
    filter: row.filter
      ? { stageNames: row.filter.stageNames ?? [], branches: row.filter.branches ?? [] }
      : null,
  };
}

export function deliveryView(ctx: GraphQLContext, row: DeliveryRow): NotificationDeliveryType {
  const notification = { ...row.notification, id: row.id };
  return {
    ...row,
    createdAt: new Date(row.createdAt),
    nextAttemptAt: row.status === "PENDING" ? new Date(row.nextAttemptAt) : null,
    deliveredAt: row.deliveredAt ? new Date(row.deliveredAt) : null,
    message: statusMessage(notification),
    link: dashboardLink(ctx.notifications.dashboardUrl, notification),
  };
}

function ruleInput(input: NotificationRuleInput): RuleInput {
  return {
    name: input.name,
    pipelineName: input.pipelineName ?? null,
    eventTypes: input.eventTypes,
    filter: input.filter ?? null,
    detailLevel: input.detailLevel ?? "BASIC",
    enabled: input.enabled ?? true,
    targetIds: input.targetIds,
  };
}

@Resolver(() => NotificationRuleType)
export class NotificationRuleResolver {
  @Authorized("sluice:ListNotificationRules")
  @Query(() => [NotificationRuleType], {
    description:
      "Notification rules by name; with pipelineName, those of that pipeline and those of every pipeline.",
  })
  async notificationRules(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName", () => String, { nullable: true }) pipelineName: string | null,
  ): Promise<NotificationRuleType[]> {
    return (await ctx.notifications.store.listRules(pipelineName ?? null)).map(ruleView);
  }

  @Authorized("sluice:ListNotificationRules")
  @Query(() => NotificationRuleType, { nullable: true })
  async notificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<NotificationRuleType | null> {
    const row = await ctx.notifications.store.findRule(id);
    return row ? ruleView(row) : null;
  }

  @FieldResolver(() => [NotificationTargetType])
  async targets(
    @Root() rule: NotificationRuleType,
    @Ctx() ctx: GraphQLContext,
  ): Promise<NotificationTargetType[]> {
    const all = await ctx.notifications.store.listTargets();
    return all.filter((t) => rule.targetIds.includes(t.id)).map((t) => targetView(ctx, t));
  }

  @FieldResolver(() => Boolean, {
    description:
      "Whether the circuit of one of its targets is open (deliveries wait): see targets { circuit }.",
  })
  async circuitOpen(@Root() rule: NotificationRuleType, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const all = await ctx.notifications.store.listTargets();
    return all.some(
      (t) =>
        rule.targetIds.includes(t.id) &&
        t.circuitOpenUntil !== null &&
        new Date(t.circuitOpenUntil).getTime() > Date.now(),
    );
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationRuleType, { description: "Creates a notification rule." })
  async createNotificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("rule", () => NotificationRuleInput) rule: NotificationRuleInput,
  ): Promise<NotificationRuleType> {
    return ruleView(await ctx.notifications.saveRule(null, ruleInput(rule), ctx.principal!.id));
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationRuleType, { description: "Replaces a notification rule (all its fields)." })
  async updateNotificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
    @Arg("rule", () => NotificationRuleInput) rule: NotificationRuleInput,
  ): Promise<NotificationRuleType> {
    await ctx.notifications.store.requireRule(id);
    return ruleView(await ctx.notifications.saveRule(id, ruleInput(rule), ctx.principal!.id));
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "Deletes a rule; its delivery log stays (ruleId null)." })
  async deleteNotificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<boolean> {
    if (!(await ctx.notifications.store.deleteRule(id)))
      throw new NotFoundError(`No notification rule has id "${id}".`);
    return true;
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => [NotificationDeliveryType], {
    description:
      "Sends a TEST message to each target of the rule now (muted or not); returns the deliveries.",
  })
  async testNotificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<NotificationDeliveryType[]> {
    return (await ctx.notifications.testRule(id, ctx.principal!.id)).map((row) => deliveryView(ctx, row));
  }
}

@Resolver(() => NotificationTargetType)
export class NotificationTargetResolver {
  @Authorized("sluice:ListNotificationTargets")
  @Query(() => [NotificationTargetType], {
    description: "Notification targets by name; secrets show as `****`.",
  })
  async notificationTargets(@Ctx() ctx: GraphQLContext): Promise<NotificationTargetType[]> {
    return (await ctx.notifications.store.listTargets()).map((row) => targetView(ctx, row));
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationTargetType)
  async createNotificationTarget(
    @Ctx() ctx: GraphQLContext,
    @Arg("target", () => NotificationTargetInput) target: NotificationTargetInput,
  ): Promise<NotificationTargetType> {
    return targetView(ctx, await ctx.notifications.createTarget(target, ctx.principal!.id));
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationTargetType, {
    description: "Replaces a target's settings (`****` keeps a stored secret); closes its circuit.",
  })
  async updateNotificationTarget(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
    @Arg("target", () => NotificationTargetInput) target: NotificationTargetInput,
  ): Promise<NotificationTargetType> {
    return targetView(ctx, await ctx.notifications.updateTarget(id, target));
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "Deletes a target no rule uses, with its delivery log." })
  async deleteNotificationTarget(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<boolean> {
    await ctx.notifications.store.deleteTarget(id);
    return true;
  }
}

@Resolver(() => NotificationDeliveryType)
export class NotificationDeliveryResolver {
  @Authorized("sluice:ListNotificationDeliveries")
  @Query(() => NotificationDeliveryConnection, { description: "The delivery log, newest first." })
  async notificationDeliveries(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.first(50) })
    first: number | null,
    @Arg("after", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.after })
    after: string | null,
    @Arg("ruleId", () => ID, { nullable: true }) ruleId: string | null,
    @Arg("targetId", () => ID, { nullable: true }) targetId: string | null,
    @Arg("status", () => NotificationDeliveryStatusEnum, { nullable: true }) status: DeliveryStatus | null,
    @Arg("pipelineName", () => String, { nullable: true }) pipelineName: string | null,
    @Arg("executionId", () => ID, { nullable: true }) executionId: string | null,
    @Arg("last", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.last }) last: number | null,
    @Arg("before", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.before })
    before: string | null,
  ) {
    const page = pageQuery({ first, after, last, before }, 50);
    const filter = { ruleId, targetId, status, pipelineName, executionId };
    const rows = await ctx.notifications.store.pageDeliveries(page, filter);
    return toConnection(
      rows,
      page,
      (row) => row.cursor,
      (row) => deliveryView(ctx, row),
      () => ctx.notifications.store.countDeliveries(filter),
    );
  }

  @Authorized("sluice:ListNotificationDeliveries")
  @Query(() => NotificationDeliveryType, { nullable: true })
  async notificationDelivery(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<NotificationDeliveryType | null> {
    const row = await ctx.notifications.store.findDelivery(id);
    return row ? deliveryView(ctx, row) : null;
  }

  @FieldResolver(() => [NotificationAttemptType], { description: "Every attempt, oldest first." })
  async history(@Root() delivery: NotificationDeliveryType, @Ctx() ctx: GraphQLContext) {
    return ctx.notifications.store.attempts(delivery.id);
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationDeliveryType, {
    description: "Sends a delivery again, with the same message id, whatever its status.",
  })
  async redeliverNotification(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<NotificationDeliveryType> {
    return deliveryView(ctx, await ctx.notifications.redeliver(id));
  }

  @Authorized("sluice:ListNotificationDeliveries")
  @Subscription(() => NotificationDeliveryType, {
    description:
      "Deliveries as they are made and attempted, on every server copy (of one rule or target, or all).",
    subscribe: ({ args, context }) => {
      const { ruleId, targetId } = args as { ruleId?: string | null; targetId?: string | null };
      let detach = () => {};
      const queue = asyncQueue<DeliveryRow>(() => detach());
      detach = (context as GraphQLContext).notifications.onDelivery((row) => {
        if ((!ruleId || row.ruleId === ruleId) && (!targetId || row.targetId === targetId)) queue.push(row);
      });
      return queue.iterator;
    },
  })
  notificationDeliveryEvents(
    @Root() row: DeliveryRow,
    @Ctx() ctx: GraphQLContext,
    @Arg("ruleId", () => ID, { nullable: true }) _ruleId: string | null,
    @Arg("targetId", () => ID, { nullable: true }) _targetId: string | null,
  ): NotificationDeliveryType {
    return deliveryView(ctx, row);
  }
}
