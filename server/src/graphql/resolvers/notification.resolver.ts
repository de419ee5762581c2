import { actingAccount } from "../../auth/principal";
import {
  Arg,
  Args,
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
import {
  CreateNotificationRuleInput,
  CreateNotificationRulePayload,
  CreateNotificationTargetInput,
  CreateNotificationTargetPayload,
  DeleteNotificationRuleInput,
  DeleteNotificationRulePayload,
  DeleteNotificationTargetInput,
  DeleteNotificationTargetPayload,
  RedeliverNotificationInput,
  RedeliverNotificationPayload,
  TestNotificationRuleInput,
  TestNotificationRulePayload,
  UpdateNotificationRuleInput,
  UpdateNotificationRulePayload,
  UpdateNotificationTargetInput,
  UpdateNotificationTargetPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated, deprecatedList } from "../deprecations";
import { NotFoundError } from "../../domain/errors";
import { dashboardLink, statusMessage } from "../../domain/notifications/messages";
import type { RuleInput } from "../../domain/notifications/rules";
import { visibleSettings } from "../../domain/notifications/targets";
import type { DeliveryRow, DeliveryStatus, RuleRow, TargetRow } from "../../persistence/notification-store";
import { asyncQueue } from "../async-queue";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import {
  Connection,
  connectionOfList,
  LIST_PAGE_SIZE,
  PAGE_ARG_DESCRIPTIONS,
  PagingArgs,
  pageQuery,
  toConnection,
} from "../types/connection";
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

const NotificationRuleConnection = Connection(NotificationRuleType, "NotificationRule");
const NotificationTargetConnection = Connection(NotificationTargetType, "NotificationTarget");

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
    ...deprecatedList("notificationRules"),
    description:
      "Notification rules by name; with pipelineName, those of that pipeline and those of every pipeline.",
  })
  async notificationRules(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName", () => String, { nullable: true }) pipelineName: string | null,
  ): Promise<NotificationRuleType[]> {
    return (await ctx.notifications.store.listRules(actingAccount(ctx.principal!), pipelineName ?? null)).map(
      ruleView,
    );
  }

  @Authorized("sluice:ListNotificationRules")
  @Query(() => NotificationRuleConnection, {
    description:
      "Notification rules by name; with pipelineName, those of that pipeline and those of every pipeline.",
  })
  async notificationRulesV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName", () => String, { nullable: true }) pipelineName: string | null,
    @Args() paging: PagingArgs,
  ) {
    const all = await this.notificationRules(ctx, pipelineName);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (r) => [r.name, r.id]);
  }

  @Authorized("sluice:ListNotificationRules")
  @Query(() => NotificationRuleType, { nullable: true })
  async notificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<NotificationRuleType | null> {
    const row = await ctx.notifications.store.findRule(id);
    // Another account's rule: as an unknown id.
    return row && row.account === actingAccount(ctx.principal!) ? ruleView(row) : null;
  }

  @FieldResolver(() => [NotificationTargetType])
  async targets(
    @Root() rule: NotificationRuleType,
    @Ctx() ctx: GraphQLContext,
  ): Promise<NotificationTargetType[]> {
    const all = await ctx.notifications.store.listTargets(actingAccount(ctx.principal!));
    return all.filter((t) => rule.targetIds.includes(t.id)).map((t) => targetView(ctx, t));
  }

  @FieldResolver(() => Boolean, {
    description:
      "Whether the circuit of one of its targets is open (deliveries wait): see targets { circuit }.",
  })
  async circuitOpen(@Root() rule: NotificationRuleType, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const all = await ctx.notifications.store.listTargets(actingAccount(ctx.principal!));
    return all.some(
      (t) =>
        rule.targetIds.includes(t.id) &&
        t.circuitOpenUntil !== null &&
        new Date(t.circuitOpenUntil).getTime() > Date.now(),
    );
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateNotificationRulePayload, { description: "Creates a notification rule." })
  async createNotificationRuleV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateNotificationRuleInput) input: InputOf<typeof CreateNotificationRuleInput>,
  ) {
    const row = await ctx.notifications.saveRule(
      actingAccount(ctx.principal!),
      null,
      ruleInput(input.rule),
      ctx.principal!.id,
    );
    return payload(input, { notificationRule: ruleView(row) });
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationRuleType, {
    description: "Creates a notification rule.",
    ...deprecated("createNotificationRule"),
  })
  async createNotificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("rule", () => NotificationRuleInput) rule: NotificationRuleInput,
  ): Promise<NotificationRuleType> {
    return (await this.createNotificationRuleV2(ctx, { rule })).notificationRule;
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => UpdateNotificationRulePayload, {
    description: "Replaces a notification rule (all its fields).",
  })
  async updateNotificationRuleV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => UpdateNotificationRuleInput) input: InputOf<typeof UpdateNotificationRuleInput>,
  ) {
    const account = actingAccount(ctx.principal!);
    await ctx.notifications.store.requireRule(account, input.id);
    const row = await ctx.notifications.saveRule(account, input.id, ruleInput(input.rule), ctx.principal!.id);
    return payload(input, { notificationRule: ruleView(row) });
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationRuleType, {
    description: "Replaces a notification rule (all its fields).",
    ...deprecated("updateNotificationRule"),
  })
  async updateNotificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
    @Arg("rule", () => NotificationRuleInput) rule: NotificationRuleInput,
  ): Promise<NotificationRuleType> {
    return (await this.updateNotificationRuleV2(ctx, { id, rule })).notificationRule;
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => DeleteNotificationRulePayload, {
    description: "Deletes a rule; its delivery log stays (ruleId null).",
  })
  async deleteNotificationRuleV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DeleteNotificationRuleInput) input: InputOf<typeof DeleteNotificationRuleInput>,
  ) {
    if (!(await ctx.notifications.store.deleteRule(actingAccount(ctx.principal!), input.id)))
      throw new NotFoundError(`No notification rule has id "${input.id}".`);
    return payload(input, { deletedNotificationRuleId: input.id });
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Deletes a rule; its delivery log stays (ruleId null).",
    ...deprecated("deleteNotificationRule"),
  })
  async deleteNotificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<boolean> {
    await this.deleteNotificationRuleV2(ctx, { id });
    return true;
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => TestNotificationRulePayload, {
    description:
      "Sends a TEST message to each target of the rule now (muted or not); returns the deliveries.",
  })
  async testNotificationRuleV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => TestNotificationRuleInput) input: InputOf<typeof TestNotificationRuleInput>,
  ) {
    const rows = await ctx.notifications.testRule(actingAccount(ctx.principal!), input.id, ctx.principal!.id);
    return payload(input, { notificationDeliveries: rows.map((row) => deliveryView(ctx, row)) });
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => [NotificationDeliveryType], {
    description: "Sends a TEST message to each target of the rule now; returns the deliveries.",
    ...deprecated("testNotificationRule"),
  })
  async testNotificationRule(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<NotificationDeliveryType[]> {
    return (await this.testNotificationRuleV2(ctx, { id })).notificationDeliveries;
  }
}

@Resolver(() => NotificationTargetType)
export class NotificationTargetResolver {
  @Authorized("sluice:ListNotificationTargets")
  @Query(() => [NotificationTargetType], {
    ...deprecatedList("notificationTargets"),
    description: "Notification targets by name; secrets show as `****`.",
  })
  async notificationTargets(@Ctx() ctx: GraphQLContext): Promise<NotificationTargetType[]> {
    return (await ctx.notifications.store.listTargets(actingAccount(ctx.principal!))).map((row) =>
      targetView(ctx, row),
    );
  }

  @Authorized("sluice:ListNotificationTargets")
  @Query(() => NotificationTargetConnection, {
    description: "Notification targets by name; secrets show as `****`.",
  })
  async notificationTargetsV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.notificationTargets(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (t) => [t.name, t.id]);
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateNotificationTargetPayload, { description: "Creates a notification target." })
  async createNotificationTargetV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateNotificationTargetInput) input: InputOf<typeof CreateNotificationTargetInput>,
  ) {
    const row = await ctx.notifications.createTarget(
      actingAccount(ctx.principal!),
      input.target,
      ctx.principal!.id,
    );
    return payload(input, { notificationTarget: targetView(ctx, row) });
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationTargetType, {
    description: "Creates a notification target.",
    ...deprecated("createNotificationTarget"),
  })
  async createNotificationTarget(
    @Ctx() ctx: GraphQLContext,
    @Arg("target", () => NotificationTargetInput) target: NotificationTargetInput,
  ): Promise<NotificationTargetType> {
    return (await this.createNotificationTargetV2(ctx, { target })).notificationTarget;
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => UpdateNotificationTargetPayload, {
    description: "Replaces a target's settings (`****` keeps a stored secret); closes its circuit.",
  })
  async updateNotificationTargetV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => UpdateNotificationTargetInput) input: InputOf<typeof UpdateNotificationTargetInput>,
  ) {
    const row = await ctx.notifications.updateTarget(actingAccount(ctx.principal!), input.id, input.target);
    return payload(input, { notificationTarget: targetView(ctx, row) });
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationTargetType, {
    description: "Replaces a target's settings (`****` keeps a stored secret); closes its circuit.",
    ...deprecated("updateNotificationTarget"),
  })
  async updateNotificationTarget(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
    @Arg("target", () => NotificationTargetInput) target: NotificationTargetInput,
  ): Promise<NotificationTargetType> {
    return (await this.updateNotificationTargetV2(ctx, { id, target })).notificationTarget;
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => DeleteNotificationTargetPayload, {
    description: "Deletes a target no rule uses, with its delivery log.",
  })
  async deleteNotificationTargetV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DeleteNotificationTargetInput) input: InputOf<typeof DeleteNotificationTargetInput>,
  ) {
    await ctx.notifications.store.deleteTarget(actingAccount(ctx.principal!), input.id);
    return payload(input, { deletedNotificationTargetId: input.id });
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Deletes a target no rule uses, with its delivery log.",
    ...deprecated("deleteNotificationTarget"),
  })
  async deleteNotificationTarget(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<boolean> {
    await this.deleteNotificationTargetV2(ctx, { id });
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
    const filter = {
      account: actingAccount(ctx.principal!),
      ruleId,
      targetId,
      status,
      pipelineName,
      executionId,
    };
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
    const found = await ctx.notifications.store.findDelivery(id);
    const row = found && found.account === actingAccount(ctx.principal!) ? found : null;
    return row ? deliveryView(ctx, row) : null;
  }

  @FieldResolver(() => [NotificationAttemptType], { description: "Every attempt, oldest first." })
  async history(@Root() delivery: NotificationDeliveryType, @Ctx() ctx: GraphQLContext) {
    return ctx.notifications.store.attempts(delivery.id);
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => RedeliverNotificationPayload, {
    description: "Sends a delivery again, with the same message id, whatever its status.",
  })
  async redeliverNotificationV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => RedeliverNotificationInput) input: InputOf<typeof RedeliverNotificationInput>,
  ) {
    return payload(input, {
      notificationDelivery: deliveryView(
        ctx,
        await ctx.notifications.redeliver(actingAccount(ctx.principal!), input.id),
      ),
    });
  }

  @Authorized("sluice:ManageNotifications")
  @UseMiddleware(auditMutations)
  @Mutation(() => NotificationDeliveryType, {
    description: "Sends a delivery again, with the same message id, whatever its status.",
    ...deprecated("redeliverNotification"),
  })
  async redeliverNotification(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<NotificationDeliveryType> {
    return (await this.redeliverNotificationV2(ctx, { id })).notificationDelivery;
  }

  @Authorized("sluice:ListNotificationDeliveries")
  @Subscription(() => NotificationDeliveryType, {
    description:
      "Deliveries as they are made and attempted, on every server copy (of one rule or target, or all).",
    subscribe: ({ args, context }) => {
      const { ruleId, targetId } = args as { ruleId?: string | null; targetId?: string | null };
      let detach = () => {};
      const queue = asyncQueue<DeliveryRow>(() => detach());
      // The deliveries of the account the caller acts in only.
      const account = actingAccount((context as GraphQLContext).principal!);
      detach = (context as GraphQLContext).notifications.onDelivery((row) => {
        if (row.account !== account) return;
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
