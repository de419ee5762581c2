import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { createPubSub } from "@graphql-yoga/subscription";
import { buildSchema } from "type-graphql";
import { authChecker } from "./auth-checker";
import { ActionTypeResolver } from "./resolvers/action-type.resolver";
import { ArchiveResolver } from "./resolvers/archive.resolver";
import { AuditResolver } from "./resolvers/audit.resolver";
import { AccountResolver } from "./resolvers/account.resolver";
import { CallerPermissionResolver } from "./resolvers/caller.resolver";
import { GroupMembersResolver, IdentityResolver } from "./resolvers/identity.resolver";
import { SessionResolver } from "./resolvers/session.resolver";
import { VersionResolver } from "./resolvers/version.resolver";
import { InstallationResolver } from "./resolvers/installation.resolver";
import { AgentResolver } from "./resolvers/agent.resolver";
import { LogResolver } from "./resolvers/log.resolver";
import { NodeResolver } from "./resolvers/node.resolver";
import { PipelineWebhookResolver } from "./resolvers/webhook.resolver";
import { SecretResolver } from "./resolvers/secret.resolver";
import {
  NotificationDeliveryResolver,
  NotificationRuleResolver,
  NotificationTargetResolver,
} from "./resolvers/notification.resolver";
import {
  ActionExecutionResolver,
  ExecutionResolver,
  PipelineStateResolver,
} from "./resolvers/execution.resolver";
import {
  ActionDeclarationResolver,
  PipelineResolver,
  PipelineTagResolver,
  PipelineVersionResolver,
} from "./resolvers/pipeline.resolver";
import { DateTimeScalar } from "./types/scalars";

export const resolvers = [
  PipelineResolver,
  PipelineTagResolver,
  PipelineVersionResolver,
  ActionDeclarationResolver,
  PipelineStateResolver,
  ExecutionResolver,
  ActionExecutionResolver,
  ActionTypeResolver,
  AgentResolver,
  LogResolver,
  PipelineWebhookResolver,
  AuditResolver,
  IdentityResolver,
  GroupMembersResolver,
  AccountResolver,
  CallerPermissionResolver,
  SessionResolver,
  InstallationResolver,
  NotificationRuleResolver,
  NotificationTargetResolver,
  NotificationDeliveryResolver,
  VersionResolver,
  ArchiveResolver,
  SecretResolver,
  NodeResolver,
] as const;

/** The executable schema; the same object serves HTTP, graphql-ws and `schema.graphql`. */
export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    authChecker,
    // The checker throws its own coded errors; it returns false only to answer null (auth-checker.ts).
    authMode: "null",
    // Subscriptions take their events from EventFanout (NATS) through their own `subscribe`;
    // type-graphql still insists on a PubSub being configured.
    pubSub: createPubSub(),
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    emitSchemaFile: false,
  });
}
