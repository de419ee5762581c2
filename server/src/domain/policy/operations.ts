/**
 * What each GraphQL operation (and HTTP route) needs: the action and the resource, for the one
 * authorization checker. Keyed `Query.pipeline`, `Mutation.retryStage`, `Subscription.actionLog`
 * (a name can be both a query and a subscription); operation-permissions.test.ts checks that every
 * `@Authorized` root field of the built schema is here, and nothing else.
 *
 * A resource is one of
 * - `template`: an SRN resource written with argument values, `pipeline/{pipelineName}/stage/{stageName}`;
 *   `{input.name}` reads a field of an argument, `{a|b}` the first of several that is a string;
 * - `execution`: the pipeline of the execution whose id is argument `arg`, then `then` (a template);
 * - `actionExecution`: `pipeline/<p>/stage/<s>/action/<a>` of the action execution whose id is `arg`;
 * - `principal`: the user, group or service account named by argument `arg` (`user/alice`); with
 *   `whenAbsent: "each"`, `each` of `each` when the argument is null;
 * - `apiToken`: the user or service account that owns the API token whose id is argument `arg`;
 * - `role`: the role named by argument `arg`, `role/<name>` (in the caller's account) or its SRN
 *   (`srn:sluice:<account>:role/<name>`, for a role of another account: assumeRole);
 * - `srn`: the resource whose SRN is argument `arg` (tagResource's `resourceArn`), of type `of`:
 *   `srn:sluice:<account>:pipeline/<name>`, or `pipeline/<name>` and `arn:sluice:codepipeline:::<name>`
 *   in the pipelines' account (domain/pipeline/tags.ts);
 * - `caller`: the caller itself (whoAmI): every authenticated principal may, as IAM's
 *   GetCallerIdentity; nothing is evaluated;
 * - `public`: anyone, signed in or not (signIn: a caller without credentials is who needs it);
 *   nothing is evaluated, and the operation itself refuses what it must (PUBLIC_OPERATIONS);
 * - `each`: a list or a stream; the call is allowed when the action may be allowed somewhere
 *   (CompiledPolicies.mayAllowAny), and each item is then shown only when the action is allowed on
 *   the item's own SRN (allowedItems). A template with `whenAbsent: "each"` becomes `each` when its
 *   argument is null (`pipelineEvents` with no pipeline name).
 * The lookups an execution or action execution needs are the checker's (ResourceLookups); this
 * file stays pure.
 *
 * Accounts: an SRN carries the account its resource belongs to. Identities, policies, roles, the
 * audit log, pipelines (and their webhooks), agents and agent tokens (ACCOUNT_SCOPED_TYPES) are the
 * caller's account's; action types, notifications, secrets, the installation and the accounts
 * themselves are the default account's (resolveResource's `account` decides per resource type).
 * An execution or action execution named by its id is its pipeline's account's (the lookup says
 * which), so the checker refuses another account's as an unknown id.
 */
import type { ActionName } from "./actions";
import { taggablePipeline } from "../pipeline/tags";
import { DEFAULT_ACCOUNT, formatSrn, type ResourceType } from "./srn";
import type { TrustPolicyDocument } from "./trust";

export type ResourceSpec =
  | {
      kind: "template";
      template: string;
      whenAbsent?: "each";
      each?: ResourceType;
      /** The resource is this account's whoever asks (custom action types: the default account's). */
      account?: string;
    }
  | { kind: "execution"; arg: string; then?: string }
  | { kind: "actionExecution"; arg: string }
  | { kind: "principal"; arg: string; whenAbsent?: "each"; each?: ResourceType }
  | { kind: "apiToken"; arg: string }
  | { kind: "role"; arg: string }
  | { kind: "srn"; arg: string; of: "pipeline" }
  | { kind: "caller" }
  | { kind: "public" }
  | { kind: "each"; of: ResourceType };

export interface OperationPermission {
  /** One action, or one chosen by a boolean argument (`toggleTransition`'s `enabled`). */
  action: ActionName | { arg: string; whenTrue: ActionName; whenFalse: ActionName };
  resource: ResourceSpec;
  /**
   * `input`: the operation takes one argument, `input` (GitHub's mutation style), and the action
   * and resource read the fields of that object as they read arguments (`{pipelineName}` is
   * `input.pipelineName`). argumentsOf() gives them.
   */
  argsFrom?: "input";
}

/** The arguments a permission reads: the field's, or its `input` object's fields. */
export function argumentsOf(
  permission: OperationPermission,
  args: Record<string, unknown>,
): Record<string, unknown> {
  if (permission.argsFrom !== "input") return args;
  const input = args.input;
  return input !== null && typeof input === "object" ? (input as Record<string, unknown>) : {};
}

/** The same permission, read from the fields of `input` (a new-style mutation of an old one). */
const viaInput = <P extends OperationPermission>(permission: P): P & { argsFrom: "input" } => ({
  ...permission,
  argsFrom: "input",
});

const template = (
  t: string,
  extra: Partial<Extract<ResourceSpec, { kind: "template" }>> = {},
): ResourceSpec => ({
  kind: "template",
  template: t,
  ...extra,
});

/**
 * Custom action types are the installation's: every account's pipelines use them and every account
 * reads the catalogue, but only a principal acting in the default account creates or deletes one.
 */
const INSTALLATION_WIDE = { account: DEFAULT_ACCOUNT } as const;

const permissionsOfArguments = {
  "Query.pipelines": { action: "sluice:ListPipelines", resource: { kind: "each", of: "pipeline" } },
  "Query.pipeline": { action: "sluice:GetPipeline", resource: template("pipeline/{name}") },
  "Query.pipelineExecution": {
    action: "sluice:GetPipelineExecution",
    resource: { kind: "execution", arg: "id" },
  },
  "Query.actionLog": {
    action: "sluice:GetLogs",
    resource: { kind: "actionExecution", arg: "actionExecutionId" },
  },
  "Query.actionTypes": { action: "sluice:ListActionTypes", resource: { kind: "each", of: "action-type" } },
  "Query.agents": { action: "sluice:ListAgents", resource: { kind: "each", of: "agent" } },
  "Query.agentTokens": { action: "sluice:ManageAgents", resource: template("agent-token") },
  "Query.auditEvents": { action: "sluice:ReadAudit", resource: template("audit") },
  "Query.version": { action: "sluice:GetVersion", resource: template("installation") },

  "Mutation.createPipeline": { action: "sluice:CreatePipeline", resource: template("pipeline/{input.name}") },
  "Mutation.importPipeline": {
    action: "sluice:CreatePipeline",
    // Sluice's document, or `aws codepipeline get-pipeline` output ({ pipeline: { name } }).
    resource: template("pipeline/{document.name|document.pipeline.name}"),
  },
  "Mutation.updatePipeline": { action: "sluice:UpdatePipeline", resource: template("pipeline/{input.name}") },
  "Mutation.editStages": { action: "sluice:UpdatePipeline", resource: template("pipeline/{pipelineName}") },
  "Mutation.deletePipeline": { action: "sluice:DeletePipeline", resource: template("pipeline/{name}") },
  // Tags (CodePipeline's TagResource, UntagResource, ListTagsForResource): on the pipeline named by its SRN.
  "Mutation.tagResource": {
    action: "sluice:TagResource",
    resource: { kind: "srn", arg: "resourceArn", of: "pipeline" },
  },
  "Mutation.untagResource": {
    action: "sluice:UntagResource",
    resource: { kind: "srn", arg: "resourceArn", of: "pipeline" },
  },
  "Query.listTagsForResource": {
    action: "sluice:ListTagsForResource",
    resource: { kind: "srn", arg: "resourceArn", of: "pipeline" },
  },
  "Mutation.releaseChange": {
    action: "sluice:StartPipelineExecution",
    resource: template("pipeline/{pipelineName}"),
  },
  "Mutation.stopExecution": {
    action: "sluice:StopPipelineExecution",
    resource: { kind: "execution", arg: "executionId" },
  },
  "Mutation.retryStage": {
    action: "sluice:RetryStageExecution",
    resource: { kind: "execution", arg: "executionId", then: "stage/{stageName}" },
  },
  "Mutation.rollbackStage": {
    action: "sluice:RollbackStage",
    resource: template("pipeline/{pipelineName}/stage/{stageName}"),
  },
  "Mutation.toggleTransition": {
    action: {
      arg: "enabled",
      whenTrue: "sluice:EnableStageTransition",
      whenFalse: "sluice:DisableStageTransition",
    },
    resource: template("pipeline/{pipelineName}/stage/{stageName}"),
  },
  "Mutation.putApprovalResult": {
    action: "sluice:PutApprovalResult",
    resource: { kind: "actionExecution", arg: "actionExecutionId" },
  },
  "Mutation.createCustomActionType": {
    action: "sluice:CreateCustomActionType",
    resource: template(
      "action-type/{input.category}/Custom/{input.provider}/{input.version}",
      INSTALLATION_WIDE,
    ),
  },
  "Mutation.deleteCustomActionType": {
    action: "sluice:DeleteCustomActionType",
    resource: template("action-type/{category}/Custom/{provider}/{version}", INSTALLATION_WIDE),
  },
  "Mutation.rotateMasterKey": { action: "sluice:ManageInstallation", resource: template("installation") },
  "Mutation.createAgentToken": { action: "sluice:ManageAgents", resource: template("agent-token") },
  "Mutation.revokeAgentToken": { action: "sluice:ManageAgents", resource: template("agent-token/{id}") },
  "Mutation.createPipelineWebhook": {
    action: "sluice:ManageWebhooks",
    resource: template("webhook/{pipelineName}"),
  },
  "Mutation.deletePipelineWebhook": {
    action: "sluice:ManageWebhooks",
    resource: template("webhook/{pipelineName}"),
  },
  // Backup and restore (docs/backup.md): the whole installation's definitions.
  "Mutation.exportInstallation": { action: "sluice:ExportInstallation", resource: template("installation") },
  "Mutation.importInstallation": { action: "sluice:ImportInstallation", resource: template("installation") },

  // Identity: users, groups, service accounts, API tokens, policies and their attachments.
  "Mutation.createUser": { action: "sluice:ManageIdentity", resource: template("user/{name}") },
  "Mutation.createGroup": { action: "sluice:ManageIdentity", resource: template("group/{name}") },
  "Mutation.addUserToGroup": { action: "sluice:ManageIdentity", resource: template("group/{groupName}") },
  "Mutation.removeUserFromGroup": {
    action: "sluice:ManageIdentity",
    resource: template("group/{groupName}"),
  },
  "Mutation.createServiceAccount": {
    action: "sluice:ManageIdentity",
    resource: template("service-account/{name}"),
  },
  "Mutation.createApiToken": {
    action: "sluice:ManageIdentity",
    resource: { kind: "principal", arg: "principal" },
  },
  "Mutation.revokeApiToken": { action: "sluice:ManageIdentity", resource: { kind: "apiToken", arg: "id" } },
  "Query.apiTokens": {
    action: "sluice:ManageIdentity",
    resource: { kind: "principal", arg: "principal", whenAbsent: "each", each: "user" },
  },
  "Mutation.putPolicy": { action: "sluice:ManageIdentity", resource: template("policy/{name}") },
  "Mutation.deletePolicy": { action: "sluice:ManageIdentity", resource: template("policy/{name}") },
  "Query.policies": { action: "sluice:ManageIdentity", resource: { kind: "each", of: "policy" } },
  "Mutation.attachPolicy": {
    action: "sluice:ManageIdentity",
    resource: { kind: "principal", arg: "principal" },
  },
  "Mutation.detachPolicy": {
    action: "sluice:ManageIdentity",
    resource: { kind: "principal", arg: "principal" },
  },
  "Query.users": { action: "sluice:ManageIdentity", resource: { kind: "each", of: "user" } },
  "Query.groups": { action: "sluice:ManageIdentity", resource: { kind: "each", of: "group" } },
  "Query.serviceAccounts": {
    action: "sluice:ManageIdentity",
    resource: { kind: "each", of: "service-account" },
  },
  "Query.policyAttachments": { action: "sluice:ManageIdentity", resource: { kind: "each", of: "policy" } },
  // Checks a document as putPolicy would and saves nothing: whoever may write some policy may ask.
  "Query.validatePolicy": { action: "sluice:ManageIdentity", resource: { kind: "each", of: "policy" } },
  "Query.whoAmI": { action: "sluice:GetCallerIdentity", resource: { kind: "caller" } },

  // Accounts (tenants) and roles: delegation within an account and across accounts.
  "Mutation.createAccount": { action: "sluice:CreateAccount", resource: template("account/{id}") },
  "Query.accounts": { action: "sluice:ListAccounts", resource: { kind: "each", of: "account" } },
  // An account's retention of its pipelines' executions, logs and artifacts (docs/backup.md).
  "Query.accountRetention": {
    action: "sluice:GetRetentionSettings",
    resource: template("account/{account}"),
  },
  "Mutation.createRole": { action: "sluice:ManageIdentity", resource: template("role/{name}") },
  "Mutation.deleteRole": { action: "sluice:ManageIdentity", resource: template("role/{name}") },
  "Query.roles": { action: "sluice:ManageIdentity", resource: { kind: "each", of: "role" } },
  // Decided by the role's trust policy (and, across accounts, the caller's own policies): checker.
  "Mutation.assumeRole": { action: "sluice:AssumeRole", resource: { kind: "role", arg: "role" } },

  // Password sign-in (auth/password-sign-in.ts): signIn is the one operation open to anonymous
  // callers; signing out and changing one's own password are each principal's own business.
  "Mutation.signIn": { action: "sluice:SignIn", resource: { kind: "public" } },
  "Mutation.signOut": { action: "sluice:SignOut", resource: { kind: "caller" } },
  "Mutation.changePassword": { action: "sluice:ChangePassword", resource: { kind: "caller" } },
  "Mutation.setUserPassword": { action: "sluice:ManageIdentity", resource: template("user/{userName}") },
  "Query.simulatePolicy": {
    action: "sluice:SimulatePolicy",
    resource: { kind: "principal", arg: "principal" },
  },

  // The secret store: names for ListSecrets, changes for ManageSecrets; no operation reads a value
  // (sluice:GetSecretValue is checked when a pipeline referencing the secret is saved).
  "Query.secrets": { action: "sluice:ListSecrets", resource: { kind: "each", of: "secret" } },
  "Mutation.putSecret": { action: "sluice:ManageSecrets", resource: template("secret/{name}") },
  "Mutation.deleteSecret": { action: "sluice:ManageSecrets", resource: template("secret/{name}") },

  "Subscription.pipelineEvents": {
    action: "sluice:GetPipelineState",
    resource: template("pipeline/{pipelineName}", { whenAbsent: "each", each: "pipeline" }),
  },
  "Subscription.executionEvents": {
    action: "sluice:GetPipelineExecution",
    resource: { kind: "execution", arg: "executionId" },
  },
  "Subscription.actionLog": {
    action: "sluice:GetLogs",
    resource: { kind: "actionExecution", arg: "actionExecutionId" },
  },
  "Subscription.agentEvents": { action: "sluice:ListAgents", resource: { kind: "each", of: "agent" } },
  // Notification rules, targets and deliveries: one resource for all of them (rules per pipeline are
  // a later refinement).
  "Query.notificationRules": { action: "sluice:ListNotificationRules", resource: template("notifications") },
  "Query.notificationRule": { action: "sluice:ListNotificationRules", resource: template("notifications") },
  "Query.notificationTargets": {
    action: "sluice:ListNotificationTargets",
    resource: template("notifications"),
  },
  "Query.notificationDeliveries": {
    action: "sluice:ListNotificationDeliveries",
    resource: template("notifications"),
  },
  "Query.notificationDelivery": {
    action: "sluice:ListNotificationDeliveries",
    resource: template("notifications"),
  },
  "Mutation.createNotificationRule": {
    action: "sluice:ManageNotifications",
    resource: template("notifications"),
  },
  "Mutation.updateNotificationRule": {
    action: "sluice:ManageNotifications",
    resource: template("notifications"),
  },
  "Mutation.deleteNotificationRule": {
    action: "sluice:ManageNotifications",
    resource: template("notifications"),
  },
  "Mutation.testNotificationRule": {
    action: "sluice:ManageNotifications",
    resource: template("notifications"),
  },
  "Mutation.createNotificationTarget": {
    action: "sluice:ManageNotifications",
    resource: template("notifications"),
  },
  "Mutation.updateNotificationTarget": {
    action: "sluice:ManageNotifications",
    resource: template("notifications"),
  },
  "Mutation.deleteNotificationTarget": {
    action: "sluice:ManageNotifications",
    resource: template("notifications"),
  },
  "Mutation.redeliverNotification": {
    action: "sluice:ManageNotifications",
    resource: template("notifications"),
  },
  "Subscription.notificationDeliveryEvents": {
    action: "sluice:ListNotificationDeliveries",
    resource: template("notifications"),
  },
} as const satisfies Record<string, OperationPermission>;

const old = permissionsOfArguments;

/**
 * The mutations of GitHub's style (graphql/deprecations.ts): `input: <Name>Input!`. Each needs
 * what the older mutation it replaces needs, read from the fields of `input`; those whose document
 * moved into a field of `input` (`pipeline`, `actionType`) name it.
 */
const permissionsOfInput = {
  "Mutation.createPipelineV2": viaInput({
    action: "sluice:CreatePipeline",
    resource: template("pipeline/{pipeline.name}"),
  }),
  "Mutation.updatePipelineV2": viaInput({
    action: "sluice:UpdatePipeline",
    resource: template("pipeline/{pipeline.name}"),
  }),
  "Mutation.importPipelineV2": viaInput(old["Mutation.importPipeline"]),
  "Mutation.editStagesV2": viaInput(old["Mutation.editStages"]),
  "Mutation.deletePipelineV2": viaInput(old["Mutation.deletePipeline"]),
  "Mutation.tagResourceV2": viaInput(old["Mutation.tagResource"]),
  "Mutation.untagResourceV2": viaInput(old["Mutation.untagResource"]),
  "Mutation.startPipelineExecution": viaInput(old["Mutation.releaseChange"]),
  "Mutation.stopPipelineExecution": viaInput(old["Mutation.stopExecution"]),
  "Mutation.retryStageExecution": viaInput(old["Mutation.retryStage"]),
  "Mutation.rollbackStageV2": viaInput(old["Mutation.rollbackStage"]),
  "Mutation.enableStageTransition": viaInput({
    action: "sluice:EnableStageTransition",
    resource: template("pipeline/{pipelineName}/stage/{stageName}"),
  }),
  "Mutation.disableStageTransition": viaInput({
    action: "sluice:DisableStageTransition",
    resource: template("pipeline/{pipelineName}/stage/{stageName}"),
  }),
  "Mutation.putApprovalResultV2": viaInput(old["Mutation.putApprovalResult"]),
  "Mutation.createCustomActionTypeV2": viaInput({
    action: "sluice:CreateCustomActionType",
    resource: template(
      "action-type/{actionType.category}/Custom/{actionType.provider}/{actionType.version}",
      INSTALLATION_WIDE,
    ),
  }),
  "Mutation.deleteCustomActionTypeV2": viaInput(old["Mutation.deleteCustomActionType"]),
  "Mutation.rotateMasterKeyV2": viaInput(old["Mutation.rotateMasterKey"]),
  "Mutation.createAgentTokenV2": viaInput(old["Mutation.createAgentToken"]),
  "Mutation.revokeAgentTokenV2": viaInput(old["Mutation.revokeAgentToken"]),
  "Mutation.putWebhook": viaInput(old["Mutation.createPipelineWebhook"]),
  "Mutation.deleteWebhook": viaInput(old["Mutation.deletePipelineWebhook"]),
  "Mutation.exportInstallationV2": viaInput(old["Mutation.exportInstallation"]),
  "Mutation.importInstallationV2": viaInput(old["Mutation.importInstallation"]),
  "Mutation.createUserV2": viaInput(old["Mutation.createUser"]),
  "Mutation.createGroupV2": viaInput(old["Mutation.createGroup"]),
  "Mutation.addUserToGroupV2": viaInput(old["Mutation.addUserToGroup"]),
  "Mutation.removeUserFromGroupV2": viaInput(old["Mutation.removeUserFromGroup"]),
  "Mutation.createServiceAccountV2": viaInput(old["Mutation.createServiceAccount"]),
  "Mutation.createApiTokenV2": viaInput(old["Mutation.createApiToken"]),
  "Mutation.revokeApiTokenV2": viaInput(old["Mutation.revokeApiToken"]),
  "Mutation.putPolicyV2": viaInput(old["Mutation.putPolicy"]),
  "Mutation.deletePolicyV2": viaInput(old["Mutation.deletePolicy"]),
  "Mutation.attachPolicyV2": viaInput(old["Mutation.attachPolicy"]),
  "Mutation.detachPolicyV2": viaInput(old["Mutation.detachPolicy"]),
  "Mutation.createAccountV2": viaInput(old["Mutation.createAccount"]),
  "Mutation.createRoleV2": viaInput(old["Mutation.createRole"]),
  "Mutation.deleteRoleV2": viaInput(old["Mutation.deleteRole"]),
  "Mutation.assumeRoleV2": viaInput(old["Mutation.assumeRole"]),
  "Mutation.signInV2": viaInput(old["Mutation.signIn"]),
  "Mutation.signOutV2": viaInput(old["Mutation.signOut"]),
  "Mutation.changePasswordV2": viaInput(old["Mutation.changePassword"]),
  "Mutation.setUserPasswordV2": viaInput(old["Mutation.setUserPassword"]),
  "Mutation.putSecretV2": viaInput(old["Mutation.putSecret"]),
  "Mutation.deleteSecretV2": viaInput(old["Mutation.deleteSecret"]),
  "Mutation.createNotificationRuleV2": viaInput(old["Mutation.createNotificationRule"]),
  "Mutation.updateNotificationRuleV2": viaInput(old["Mutation.updateNotificationRule"]),
  "Mutation.deleteNotificationRuleV2": viaInput(old["Mutation.deleteNotificationRule"]),
  "Mutation.testNotificationRuleV2": viaInput(old["Mutation.testNotificationRule"]),
  "Mutation.createNotificationTargetV2": viaInput(old["Mutation.createNotificationTarget"]),
  "Mutation.updateNotificationTargetV2": viaInput(old["Mutation.updateNotificationTarget"]),
  "Mutation.deleteNotificationTargetV2": viaInput(old["Mutation.deleteNotificationTarget"]),
  "Mutation.redeliverNotificationV2": viaInput(old["Mutation.redeliverNotification"]),
  // New in this release, with no older shape to replace.
  "Mutation.rotateSigningKey": viaInput({
    action: "sluice:ManageInstallation",
    resource: template("installation"),
  }),
  "Mutation.putAccountRetention": viaInput({
    action: "sluice:PutRetentionSettings",
    resource: template("account/{account}"),
  }),
} as const satisfies Record<string, OperationPermission>;

/**
 * The connections that replace plain lists (graphql/deprecations.ts, LIST_SUCCESSORS): each needs
 * what its list needs, with the same arguments (and the paging ones).
 */
const permissionsOfConnections = {
  "Query.usersV2": old["Query.users"],
  "Query.groupsV2": old["Query.groups"],
  "Query.serviceAccountsV2": old["Query.serviceAccounts"],
  "Query.apiTokensV2": old["Query.apiTokens"],
  "Query.policiesV2": old["Query.policies"],
  "Query.policyAttachmentsV2": old["Query.policyAttachments"],
  "Query.accountsV2": old["Query.accounts"],
  "Query.rolesV2": old["Query.roles"],
  "Query.agentsV2": old["Query.agents"],
  "Query.agentTokensV2": old["Query.agentTokens"],
  "Query.secretsV2": old["Query.secrets"],
  "Query.listActionTypes": old["Query.actionTypes"],
  "Query.notificationRulesV2": old["Query.notificationRules"],
  "Query.notificationTargetsV2": old["Query.notificationTargets"],
} as const satisfies Record<string, OperationPermission>;

export const operationPermissions = {
  ...permissionsOfArguments,
  ...permissionsOfInput,
  ...permissionsOfConnections,
};

export type OperationKey = keyof typeof operationPermissions;

/**
 * The operations an anonymous caller may call (resource `public`): the schema-wide tests expect
 * UNAUTHENTICATED from every other one without credentials.
 */
export const PUBLIC_OPERATIONS: readonly string[] = Object.entries(operationPermissions)
  .filter(([, p]) => (p as OperationPermission).resource.kind === "public")
  .map(([key]) => key);

/**
 * The operations every signed-in principal may call about itself (resource `caller` or
 * `public`): a ReadOnly principal is allowed these, and refused every other mutation.
 */
export const SELF_SERVICE_OPERATIONS: readonly string[] = Object.entries(operationPermissions)
  .filter(([, p]) => ["caller", "public"].includes((p as OperationPermission).resource.kind))
  .map(([key]) => key);

/**
 * Fields below the root that show more than their root operation's action covers, for the checker
 * to guard as well (they are not `@Authorized` today): a pipeline's live state and its execution
 * history. `{name}` is the parent Pipeline's name: resolve these with the parent object as `args`.
 */
export const fieldPermissions = {
  "Pipeline.state": { action: "sluice:GetPipelineState", resource: template("pipeline/{name}") },
  "Pipeline.executions": { action: "sluice:ListPipelineExecutions", resource: template("pipeline/{name}") },
  "Pipeline.tags": { action: "sluice:ListTagsForResource", resource: template("pipeline/{name}") },
} as const satisfies Record<string, OperationPermission>;

/**
 * Global ids: `Query.node(id)` and `Query.nodes(ids)` take ids of any type below, so their root
 * entry names the argument only; each node is then decided on its own, by its type's entry in
 * `nodePermissions`, with the loaded object's fields as the arguments (`{name}` of a Pipeline, as
 * in fieldPermissions). Every authenticated caller may ask; a node the caller may not read answers
 * null, exactly as an unknown id does, so existence does not leak.
 */
export const nodeOperations = {
  "Query.node": { ids: "id" },
  "Query.nodes": { ids: "ids" },
} as const satisfies Record<string, { ids: string }>;

/** What reading a node of each type needs: the action of the query or list that shows it. */
export const nodePermissions = {
  Pipeline: { action: "sluice:GetPipeline", resource: template("pipeline/{name}") },
  PipelineVersion: { action: "sluice:GetPipeline", resource: template("pipeline/{pipelineName}") },
  PipelineExecution: {
    action: "sluice:GetPipelineExecution",
    resource: template("pipeline/{pipelineName}"),
  },
  StageExecution: { action: "sluice:GetPipelineExecution", resource: template("pipeline/{pipelineName}") },
  ActionExecution: { action: "sluice:GetPipelineExecution", resource: template("pipeline/{pipelineName}") },
  ActionAttempt: { action: "sluice:GetPipelineExecution", resource: template("pipeline/{pipelineName}") },
  ActionTypeDeclaration: {
    action: "sluice:ListActionTypes",
    resource: template("action-type/{id.category}/{id.owner}/{id.provider}/{id.version}"),
  },
  Agent: { action: "sluice:ListAgents", resource: template("agent/{pool}/{name}") },
  AgentToken: { action: "sluice:ManageAgents", resource: template("agent-token") },
  ApiToken: { action: "sluice:ManageIdentity", resource: { kind: "principal", arg: "principal" } },
  Policy: { action: "sluice:ManageIdentity", resource: template("policy/{name}") },
  AuditEvent: { action: "sluice:ReadAudit", resource: template("audit") },
  NotificationRule: { action: "sluice:ListNotificationRules", resource: template("notifications") },
  NotificationTarget: { action: "sluice:ListNotificationTargets", resource: template("notifications") },
  NotificationDelivery: {
    action: "sluice:ListNotificationDeliveries",
    resource: template("notifications"),
  },
} as const satisfies Record<string, OperationPermission>;

export type NodeTypeName = keyof typeof nodePermissions;

export function isNodeTypeName(name: string): name is NodeTypeName {
  return Object.hasOwn(nodePermissions, name);
}

/** HTTP routes that act for a principal (the webhook route is authenticated by its signature). */
export const routePermissions = {
  "GET /metrics": { action: "sluice:GetMetrics", resource: template("installation") },
  "GET /version": { action: "sluice:GetVersion", resource: template("installation") },
  "POST /agents/nats-credentials": {
    action: "sluice:IssueNatsCredentials",
    resource: template("installation"),
  },
  // Agent tokens only, and only for the attempt whose lease the agent holds (http/job-artifacts.ts).
  "GET /agents/jobs/:jobId/:attempt/inputs/:name": {
    action: "sluice:TransferJobArtifacts",
    resource: template("installation"),
  },
  "PUT /agents/jobs/:jobId/:attempt/outputs/:name": {
    action: "sluice:TransferJobArtifacts",
    resource: template("installation"),
  },
  "GET /artifacts/:executionId/:artifactName": {
    action: "sluice:GetArtifact",
    resource: { kind: "execution", arg: "executionId" },
  },
} as const satisfies Record<string, OperationPermission>;

/**
 * HTTP routes open to anonymous callers, each with why: they are how a person signs in (no token
 * exists yet). They act for nobody until the sign-in verifies; every sign-in, done or refused, is
 * in the audit log (auth/oidc-sign-in.ts).
 */
export const publicRoutes = {
  "GET /auth/config": "tells the sign-in page which ways of signing in are on (no secret)",
  "GET /auth/oidc/start": "starts an OpenID Connect sign-in: redirects to the identity provider",
  "GET /auth/oidc/callback":
    "the identity provider's redirect back: verified, then a session token is issued",
} as const satisfies Record<string, string>;

/** What the checker provides to find the pipeline behind an id; null when there is none. */
export interface ResourceLookups {
  /** The pipeline an execution belongs to, and that pipeline's account. */
  pipelineOfExecution(executionId: string): Promise<{ account: string; pipeline: string } | null>;
  actionOfActionExecution(
    actionExecutionId: string,
  ): Promise<{ account: string; pipeline: string; stage: string; action: string } | null>;
  /** The owner of an API token (`user/alice`, `service-account/ci`) and its account. */
  principalOfApiToken(tokenId: string): Promise<{ account: string; principal: string } | null>;
  /** A role's trust policy; null when there is no such role. */
  trustPolicyOfRole(account: string, name: string): Promise<TrustPolicyDocument | null>;
}

export type ResolvedResource =
  | { kind: "one"; srn: string }
  | { kind: "each"; of: ResourceType }
  | { kind: "caller" }
  | { kind: "public" }
  /** The arguments do not name a resource (a missing or non-string name, an unknown id). */
  | { kind: "unresolved"; reason: string };

export function actionFor(permission: OperationPermission, args: Record<string, unknown>): ActionName {
  const { action } = permission;
  if (typeof action === "string") return action;
  return argumentsOf(permission, args)[action.arg] === true ? action.whenTrue : action.whenFalse;
}

/**
 * `account`: the account of every resource, or, per resource type (`user`, `pipeline`...), the
 * account it belongs to for this caller.
 */
export async function resolveResource(
  spec: ResourceSpec,
  args: Record<string, unknown>,
  account: string | ((type: string) => string),
  lookups: ResourceLookups,
): Promise<ResolvedResource> {
  const accountOf = typeof account === "string" ? () => account : account;
  const formatSrnPath = (path: string) => `srn:sluice:${accountOf(path.split("/")[0]!)}:${path}`;
  switch (spec.kind) {
    case "each":
      return { kind: "each", of: spec.of };
    case "caller":
      return { kind: "caller" };
    case "public":
      return { kind: "public" };
    case "principal": {
      const value = args[spec.arg];
      if (value == null && spec.whenAbsent === "each" && spec.each) return { kind: "each", of: spec.each };
      return typeof value === "string" && PRINCIPAL_REF.test(value)
        ? { kind: "one", srn: formatSrnPath(value) }
        : {
            kind: "unresolved",
            reason: `${spec.arg} must name a user/<name>, group/<name>, service-account/<name> or role/<name>.`,
          };
    }
    case "apiToken": {
      const id = args[spec.arg];
      const owner = typeof id === "string" ? await lookups.principalOfApiToken(id) : null;
      return owner === null
        ? { kind: "unresolved", reason: `No API token ${JSON.stringify(id)} exists.` }
        : { kind: "one", srn: `srn:sluice:${owner.account}:${owner.principal}` };
    }
    case "role": {
      const value = args[spec.arg];
      const own = typeof value === "string" ? /^role\/([^/:*?]+)$/.exec(value) : null;
      if (own) return { kind: "one", srn: formatSrnPath(`role/${own[1]}`) };
      const other = typeof value === "string" ? ROLE_SRN.exec(value) : null;
      return other
        ? { kind: "one", srn: value as string }
        : {
            kind: "unresolved",
            reason: `${spec.arg} must name a role: role/<name> or srn:sluice:<account>:role/<name>.`,
          };
    }
    case "template": {
      const filled = fillTemplate(spec.template, args);
      if (filled.ok) {
        const srn = spec.account ? `srn:sluice:${spec.account}:${filled.path}` : formatSrnPath(filled.path);
        return { kind: "one", srn };
      }
      if (spec.whenAbsent === "each" && spec.each && filled.absent) return { kind: "each", of: spec.each };
      return { kind: "unresolved", reason: filled.reason };
    }
    case "srn": {
      const value = args[spec.arg];
      const found = typeof value === "string" ? taggablePipeline(value) : null;
      if (!found) {
        return {
          kind: "unresolved",
          reason: `${spec.arg} must name a pipeline: srn:sluice:<account>:pipeline/<name>, pipeline/<name> or arn:sluice:codepipeline:::<name>.`,
        };
      }
      // A pipeline of the account the caller acts in; an SRN naming another account's is refused
      // by the checker as any resource of another account is. `pipeline/<name>` and the ARN form
      // name the caller's account's.
      const account = found.account ?? accountOf(spec.of);
      return { kind: "one", srn: formatSrn(account, { type: "pipeline", pipeline: found.name }) };
    }
    case "execution": {
      const id = args[spec.arg];
      const found = typeof id === "string" ? await lookups.pipelineOfExecution(id) : null;
      if (found === null) return { kind: "unresolved", reason: `No execution ${JSON.stringify(id)} exists.` };
      // The execution's own pipeline's account: another account's is refused as unknown.
      const base = `srn:sluice:${found.account}:pipeline/${found.pipeline}`;
      if (!spec.then) return { kind: "one", srn: base };
      const filled = fillTemplate(spec.then, args);
      return filled.ok
        ? { kind: "one", srn: `${base}/${filled.path}` }
        : { kind: "unresolved", reason: filled.reason };
    }
    case "actionExecution": {
      const id = args[spec.arg];
      const found = typeof id === "string" ? await lookups.actionOfActionExecution(id) : null;
      if (found === null) {
        return { kind: "unresolved", reason: `No action execution ${JSON.stringify(id)} exists.` };
      }
      const { account, ...action } = found;
      return { kind: "one", srn: formatSrn(account, { type: "pipeline", ...action }) };
    }
  }
}

/** `user/alice`, `group/ops`, `service-account/ci`, `role/deployer`: a principal named by an argument. */
export const PRINCIPAL_REF = /^(user|group|service-account|role)\/[^/:*?]+$/;

/** `srn:sluice:<account>:role/<name>`: a role, possibly another account's. */
export const ROLE_SRN = /^srn:sluice:([A-Za-z0-9_-]{1,64}):role\/([^/:*?]+)$/;

type Filled = { ok: true; path: string } | { ok: false; absent: boolean; reason: string };

/**
 * `{a.b|c}` → the first of args.a.b, args.c that is a non-empty string. A value holding `/`, `:`
 * or a wildcard is refused: it would name another resource (or many), and no valid name has one.
 */
export function fillTemplate(template: string, args: Record<string, unknown>): Filled {
  let absent = false;
  let reason = "";
  const path = template.replace(/\{([^}]+)\}/g, (_, alternatives: string) => {
    const candidates = alternatives.split("|");
    const value = candidates
      .map((c) => valueAt(args, c.split(".")))
      .find((v) => typeof v === "string" && v !== "");
    if (typeof value !== "string") {
      absent ||= candidates.every((c) => valueAt(args, c.split(".")) == null);
      reason ||= `${candidates.join(" or ")} must name the resource.`;
      return "";
    }
    if (/[/:*?]/.test(value)) {
      reason ||= `${JSON.stringify(value)} cannot be part of a resource name.`;
      return "";
    }
    return value;
  });
  return reason ? { ok: false, absent, reason } : { ok: true, path };
}

function valueAt(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
