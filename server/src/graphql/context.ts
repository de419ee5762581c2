import type { AccountService } from "../auth/account-service";
import type { IdentityService } from "../auth/identity-service";
import type { PasswordSignIn } from "../auth/password-sign-in";
import type { ResourceLookups } from "../domain/policy";
import type { Principal } from "../auth/principal";
import type { ExecutionEngine } from "../engine/execution-engine";
import type { ExecutionReads } from "../engine/resource-lookups";
import type { InstallationArchives } from "../engine/installation-archive";
import type { PipelineDefinitions } from "../engine/pipeline-definitions";
import type { AgentGateway } from "../messaging/agent-gateway";
import type { EventFanout } from "../messaging/event-fanout";
import type { LogReader } from "../messaging/log-reader";
import type { MessageSigner } from "../messaging/message-signer";
import type { AgentStore } from "../persistence/agent-store";
import type { AuditStore } from "../persistence/audit-store";
import type { WebhookStore } from "../persistence/webhook-store";
import type { Logger } from "../logger";
import type { NotificationService } from "../notifications/notification-service";
import type { PipelineStore } from "../persistence/pipeline-store";
import type { SecretStore } from "../persistence/secret-store";
import type { SecretVault } from "../persistence/secret-vault";
import type { RefusedReads } from "../auth/refused-reads";

/** What every resolver gets: who asks, and the services it may call. */
export interface GraphQLContext {
  principal: Principal | null;
  requestId: string;
  logger: Logger;
  definitions: PipelineDefinitions;
  store: PipelineStore;
  engine: ExecutionEngine;
  events: EventFanout;
  agents: AgentStore;
  agentGateway: AgentGateway;
  logs: LogReader;
  webhooks: WebhookStore;
  audit: AuditStore;
  /** Refused queries and subscriptions, audited within a budget (auth/refused-reads.ts). */
  refusedReads: RefusedReads;
  identity: IdentityService;
  /** Accounts, roles and role sessions. */
  accounts: AccountService;
  /** Password sign-in, sessions and password changes. */
  passwords: PasswordSignIn;
  /** What the authorization checker asks to find the pipeline or owner behind an id (per operation). */
  lookups: ResourceLookups;
  /** Executions the checker read for this operation, handed to its resolvers (per operation). */
  executionReads: ExecutionReads;
  notifications: NotificationService;
  /** Export and import of the installation's definitions. */
  archives: InstallationArchives;
  /** Secret values at rest: the master key's rotation (persistence/secret-vault.ts). */
  vault: SecretVault;
  /** The secret store: names, metadata and new versions (never a value to a client). */
  secrets: SecretStore;
  /** The key that signs jobs and cancels: its rotation (messaging/message-signer.ts). */
  signer: MessageSigner;
  /** The server's address as others reach it (SLUICE_PUBLIC_URL). */
  publicUrl: string;
}

export type ContextServices = Pick<
  GraphQLContext,
  | "definitions"
  | "store"
  | "logger"
  | "engine"
  | "events"
  | "agents"
  | "agentGateway"
  | "logs"
  | "webhooks"
  | "audit"
  | "refusedReads"
  | "identity"
  | "accounts"
  | "passwords"
  | "notifications"
  | "archives"
  | "vault"
  | "secrets"
  | "signer"
  | "publicUrl"
>;
