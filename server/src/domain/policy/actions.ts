/**
 * The catalogue of policy actions: every name a statement's `Action` or `NotAction` can match, with
 * whether it only reads. Compiled statements are indexed by these names (evaluator.ts), and a
 * pattern that matches none of them is a validation error (a typo would otherwise grant nothing
 * without a word). docs/policies.md lists them with the operations they guard.
 */

export const ACTION_PREFIX = "sluice:";

/** `access`: "read" changes nothing (ReadOnly holds exactly these), "write" changes something. */
export const ACTION_CATALOGUE = {
  "sluice:ListPipelines": { access: "read", resource: "pipeline" },
  "sluice:GetPipeline": { access: "read", resource: "pipeline" },
  "sluice:GetPipelineState": { access: "read", resource: "pipeline" },
  "sluice:ListPipelineExecutions": { access: "read", resource: "pipeline" },
  "sluice:GetPipelineExecution": { access: "read", resource: "pipeline" },
  "sluice:GetLogs": { access: "read", resource: "action" },
  "sluice:GetArtifact": { access: "read", resource: "pipeline" },
  "sluice:CreatePipeline": { access: "write", resource: "pipeline" },
  "sluice:UpdatePipeline": { access: "write", resource: "pipeline" },
  "sluice:DeletePipeline": { access: "write", resource: "pipeline" },
  /** A pipeline's tags (tagResource, untagResource, listTagsForResource, Pipeline.tags). */
  "sluice:TagResource": { access: "write", resource: "pipeline" },
  "sluice:UntagResource": { access: "write", resource: "pipeline" },
  "sluice:ListTagsForResource": { access: "read", resource: "pipeline" },
  "sluice:StartPipelineExecution": { access: "write", resource: "pipeline" },
  "sluice:StopPipelineExecution": { access: "write", resource: "pipeline" },
  "sluice:RetryStageExecution": { access: "write", resource: "stage" },
  "sluice:RollbackStage": { access: "write", resource: "stage" },
  "sluice:EnableStageTransition": { access: "write", resource: "stage" },
  "sluice:DisableStageTransition": { access: "write", resource: "stage" },
  "sluice:PutApprovalResult": { access: "write", resource: "action" },
  "sluice:ListActionTypes": { access: "read", resource: "action-type" },
  "sluice:CreateCustomActionType": { access: "write", resource: "action-type" },
  "sluice:DeleteCustomActionType": { access: "write", resource: "action-type" },
  "sluice:ListAgents": { access: "read", resource: "agent" },
  "sluice:ManageAgents": { access: "write", resource: "agent-token" },
  "sluice:ManageWebhooks": { access: "write", resource: "webhook" },
  "sluice:ReadAudit": { access: "read", resource: "audit" },
  "sluice:ListNotificationRules": { access: "read", resource: "notifications" },
  "sluice:ListNotificationTargets": { access: "read", resource: "notifications" },
  "sluice:ListNotificationDeliveries": { access: "read", resource: "notifications" },
  "sluice:ManageNotifications": { access: "write", resource: "notifications" },
  "sluice:GetVersion": { access: "read", resource: "installation" },
  "sluice:GetMetrics": { access: "read", resource: "installation" },
  "sluice:ExportInstallation": { access: "read", resource: "installation" },
  "sluice:ImportInstallation": { access: "write", resource: "installation" },
  "sluice:ManageInstallation": { access: "write", resource: "installation" },
  "sluice:IssueNatsCredentials": { access: "write", resource: "installation" },
  /** An agent's job artifacts over HTTP (the lease is checked by the route). */
  "sluice:TransferJobArtifacts": { access: "write", resource: "installation" },
  /** The secret store: names and metadata (never values). */
  "sluice:ListSecrets": { access: "read", resource: "secret" },
  /**
   * A secret's value: no operation returns it to a client; a pipeline saved with a
   * `{{resolve:secret:NAME}}` reference needs it on that secret (the job then gets the value).
   */
  "sluice:GetSecretValue": { access: "read", resource: "secret" },
  /** putSecret (a new version) and deleteSecret. */
  "sluice:ManageSecrets": { access: "write", resource: "secret" },
  "sluice:ManageIdentity": { access: "write", resource: "identity" },
  "sluice:SimulatePolicy": { access: "read", resource: "identity" },
  /** whoAmI: every authenticated principal may (the checker evaluates nothing for it). */
  "sluice:GetCallerIdentity": { access: "read", resource: "identity" },
  "sluice:AssumeRole": { access: "write", resource: "role" },
  "sluice:CreateAccount": { access: "write", resource: "account" },
  "sluice:ListAccounts": { access: "read", resource: "account" },
  /** An account's retention of its pipelines' executions, logs and artifacts (accountRetention). */
  "sluice:GetRetentionSettings": { access: "read", resource: "account" },
  /** putAccountRetention. */
  "sluice:PutRetentionSettings": { access: "write", resource: "account" },
  /** signIn: anyone may, signed in or not (a `public` operation: nothing is evaluated). */
  "sluice:SignIn": { access: "write", resource: "identity" },
  /** signOut and changePassword: every signed-in principal may, for itself (nothing is evaluated). */
  "sluice:SignOut": { access: "write", resource: "identity" },
  "sluice:ChangePassword": { access: "write", resource: "identity" },
} as const satisfies Record<string, { access: "read" | "write"; resource: string }>;

export type ActionName = keyof typeof ACTION_CATALOGUE;

export const ACTION_NAMES = Object.keys(ACTION_CATALOGUE) as ActionName[];

export const READ_ACTIONS = ACTION_NAMES.filter((a) => ACTION_CATALOGUE[a].access === "read");
export const WRITE_ACTIONS = ACTION_NAMES.filter((a) => ACTION_CATALOGUE[a].access === "write");

export function isActionName(value: string): value is ActionName {
  return Object.hasOwn(ACTION_CATALOGUE, value);
}
