import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { NodeInterface } from "./node.type";
import { NOTIFICATION_EVENT_TYPES } from "../../domain/notifications/events";
import { DETAIL_LEVELS } from "../../domain/notifications/rules";
import { TARGET_KINDS } from "../../domain/notifications/targets";
import { Connection } from "./connection";

const enumOf = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const NotificationEventTypeEnum = enumOf(NOTIFICATION_EVENT_TYPES);
registerEnumType(NotificationEventTypeEnum, {
  name: "NotificationEventType",
  description:
    "The pipeline events a notification rule can match. STAGE_ROLLED_BACK: a rollback execution's stage succeeded (it is not also STAGE_SUCCEEDED).",
});

export const NotificationTargetKindEnum = enumOf(TARGET_KINDS);
registerEnumType(NotificationTargetKindEnum, {
  name: "NotificationTargetKind",
  description:
    "WEBHOOK: a signed JSON POST (docs/notifications.md); SLACK: a Slack, Mattermost or Rocket.Chat incoming webhook; TEAMS: a Microsoft Teams (Workflows) incoming webhook; EMAIL: SMTP; NATS: a subject of yours.",
});

export const NotificationDetailLevelEnum = enumOf(DETAIL_LEVELS);
registerEnumType(NotificationDetailLevelEnum, {
  name: "NotificationDetailLevel",
  description:
    "BASIC: what happened and the link; FULL: also the execution's trigger, revisions and summary.",
});

export const NotificationDeliveryStatusEnum = enumOf(["PENDING", "SUCCEEDED", "FAILED"] as const);
registerEnumType(NotificationDeliveryStatusEnum, {
  name: "NotificationDeliveryStatus",
  description:
    "PENDING: not sent yet or being retried; SUCCEEDED: the receiver took it; FAILED: retries gave up.",
});

@ObjectType("NotificationHeader")
export class NotificationHeaderType {
  @Field()
  name!: string;

  @Field({ description: "Always `****`: header values are often credentials." })
  value!: string;
}

@ObjectType("NotificationCircuit", {
  description: "The target's circuit breaker: open after repeated failures, deliveries wait until it closes.",
})
export class NotificationCircuitType {
  @Field()
  open!: boolean;

  @Field(() => Int, { description: "Failed attempts in a row." })
  consecutiveFailures!: number;

  @Field(() => Date, { nullable: true, description: "While open: when the next attempt may go." })
  openUntil!: Date | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;
}

@ObjectType("NotificationTarget", {
  implements: NodeInterface,
  description: "Where notifications go; shared by any number of rules.",
})
export class NotificationTargetType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => NotificationTargetKindEnum)
  kind!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "WEBHOOK: the URL; SLACK, TEAMS: only the origin, the path (the credential) shows as `****`.",
  })
  url!: string | null;

  @Field(() => String, { nullable: true, description: "WEBHOOK: `****` when a signing secret is set." })
  secret!: string | null;

  @Field(() => [NotificationHeaderType], { nullable: true })
  headers!: NotificationHeaderType[] | null;

  @Field(() => [String], { nullable: true })
  emailAddresses!: string[] | null;

  @Field(() => String, { nullable: true, description: "NATS: the subject as given." })
  subject!: string | null;

  @Field(() => String, { nullable: true, description: "NATS: the full subject messages are published on." })
  natsSubject!: string | null;

  @Field(() => NotificationCircuitType)
  circuit!: NotificationCircuitType;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType("NotificationRuleFilter")
export class NotificationRuleFilterType {
  @Field(() => [String])
  stageNames!: string[];

  @Field(() => [String])
  branches!: string[];
}

@ObjectType("NotificationRule", {
  implements: NodeInterface,
  description: "Which pipeline events to send where.",
})
export class NotificationRuleType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true, description: "null: every pipeline." })
  pipelineName!: string | null;

  @Field(() => [NotificationEventTypeEnum])
  eventTypes!: string[];

  @Field(() => NotificationRuleFilterType, { nullable: true })
  filter!: NotificationRuleFilterType | null;

  @Field(() => NotificationDetailLevelEnum)
  detailLevel!: string;

  @Field({ description: "false: muted, no deliveries are made." })
  enabled!: boolean;

  @Field(() => [ID])
  targetIds!: string[];

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType("NotificationAttempt")
export class NotificationAttemptType {
  @Field(() => Int)
  attempt!: number;

  @Field()
  at!: Date;

  @Field()
  ok!: boolean;

  @Field(() => Int, {
    nullable: true,
    description: "The HTTP status (or SMTP reply code); null for NATS or no answer.",
  })
  statusCode!: number | null;

  @Field(() => Int)
  latencyMs!: number;

  @Field(() => String, { nullable: true })
  error!: string | null;
}

@ObjectType("NotificationDelivery", {
  implements: NodeInterface,
  description:
    "One message of one rule to one target (or, for APPROVAL_NEEDED, to one user allowed to approve), and its attempts.",
})
export class NotificationDeliveryType {
  @Field(() => ID, {
    description: "Also the message id receivers de-duplicate on (`id` of the body, `Sluice-Message-Id`).",
  })
  id!: string;

  @Field(() => ID, { nullable: true, description: "null once the rule was deleted." })
  ruleId!: string | null;

  @Field()
  ruleName!: string;

  @Field(() => ID, { nullable: true, description: "null for an approver's e-mail (see recipient)." })
  targetId!: string | null;

  @Field({ description: "The target's name, or `user/<name>` for an approver's e-mail." })
  targetName!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "APPROVAL_NEEDED e-mailed to a user allowed to approve (sluice:PutApprovalResult): the user's name; null for a target's delivery.",
  })
  recipient!: string | null;

  @Field({ description: "A NotificationEventType, or TEST for testNotificationRule." })
  eventType!: string;

  @Field()
  pipelineName!: string;

  @Field(() => ID, { nullable: true })
  executionId!: string | null;

  @Field()
  message!: string;

  @Field({ description: "The dashboard page the message links to." })
  link!: string;

  @Field(() => NotificationDeliveryStatusEnum)
  status!: string;

  @Field(() => Int)
  attempts!: number;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: "PENDING: when the next attempt is due." })
  nextAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;

  @Field(() => Int, { nullable: true })
  lastStatusCode!: number | null;

  @Field(() => Int, { nullable: true })
  lastLatencyMs!: number | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;
}

export const NotificationDeliveryConnection = Connection(NotificationDeliveryType, "NotificationDelivery");

@InputType()
export class NotificationHeaderInput {
  @Field()
  name!: string;

  @Field({ description: "`****` keeps the stored value of the header of that name." })
  value!: string;
}

@InputType({ description: "A target; the fields its kind does not use must be left out." })
export class NotificationTargetInput {
  @Field()
  name!: string;

  @Field(() => NotificationTargetKindEnum)
  kind!: "WEBHOOK" | "SLACK" | "TEAMS" | "EMAIL" | "NATS";

  @Field(() => String, {
    nullable: true,
    description: "WEBHOOK, SLACK, TEAMS: https URL; `****` keeps the stored one.",
  })
  url?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "WEBHOOK: HMAC-SHA256 key of `Sluice-Signature` (16–200 characters); `****` or left out keeps the stored one, null removes it.",
  })
  secret?: string | null;

  @Field(() => [NotificationHeaderInput], {
    nullable: true,
    description: "WEBHOOK: extra headers (at most 20).",
  })
  headers?: NotificationHeaderInput[] | null;

  @Field(() => [String], { nullable: true, description: "EMAIL: recipients (at most 50)." })
  emailAddresses?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: "NATS: 1–8 tokens; published under `<prefix>_notify.`.",
  })
  subject?: string | null;
}

@InputType()
export class NotificationRuleFilterInput {
  @Field(() => [String], { nullable: true, description: "Only events of these stages." })
  stageNames?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description: "Only executions of these branches (their source actions' Branch or reported BranchName).",
  })
  branches?: string[] | null;
}

@InputType()
export class NotificationRuleInput {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true, description: "null or left out: every pipeline." })
  pipelineName?: string | null;

  @Field(() => [NotificationEventTypeEnum])
  eventTypes!: string[];

  @Field(() => NotificationRuleFilterInput, { nullable: true })
  filter?: NotificationRuleFilterInput | null;

  @Field(() => NotificationDetailLevelEnum, { nullable: true, description: "Default BASIC." })
  detailLevel?: "BASIC" | "FULL" | null;

  @Field(() => Boolean, { nullable: true, description: "Default true; false mutes the rule." })
  enabled?: boolean | null;

  @Field(() => [ID])
  targetIds!: string[];
}
