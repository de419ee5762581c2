/**
 * The inputs and payloads of the new-style mutations (graphql/deprecations.ts): for a field
 * `createGroupV2` or `startPipelineExecution`, `CreateGroupInput` / `StartPipelineExecutionInput`
 * and `CreateGroupPayload` / `StartPipelineExecutionPayload`. Input fields keep the names the old
 * arguments had; a document the old mutation took as a whole (`input: PipelineInput`, `rule:`,
 * `target:`) is one field of the input (`pipeline`, `rule`, `target`, as CodePipeline's own
 * CreatePipeline takes `pipeline`).
 */
import { ID, Int } from "type-graphql";
import { ActionTypeDeclarationType, CustomActionTypeInput } from "./action-type.type";
import { AgentTokenType } from "./agent.type";
import { InstallationImportType } from "./archive.type";
import { PipelineVariableOverride, RetryModeEnum, SourceRevisionInput } from "./execution.input";
import { ActionExecutionType, PipelineExecutionType, TransitionStateType } from "./execution.type";
import {
  AccountRetentionType,
  AccountType,
  ApiTokenType,
  GroupType,
  PolicyType,
  RoleCredentialsType,
  RoleType,
  ServiceAccountType,
  UserType,
} from "./identity.type";
import { MasterKeyRotationType } from "./master-key.type";
import { mutationInput, mutationPayload } from "./mutation";
import {
  NotificationDeliveryType,
  NotificationRuleInput,
  NotificationRuleType,
  NotificationTargetInput,
  NotificationTargetType,
} from "./notification.type";
import { PipelineInput, StageEditInput } from "./pipeline.input";
import { ActionTypeIdType, PipelineType } from "./pipeline.type";
import { DateTimeScalar, JSONObjectScalar, JSONScalar } from "./scalars";
import { SecretType } from "./secret.type";
import {
  DEFAULT_SIGNING_KEY_GRACE_SECONDS,
  MAX_SIGNING_KEY_GRACE_SECONDS,
  SigningKeyRotationType,
} from "./signing-key.type";
import { ResourceTagsType, TagInput } from "./tag.type";

const str = { type: () => String };
const optStr = { type: () => String, nullable: true };
const id = { type: () => ID };
const bool = { type: () => Boolean };

// ---- Pipelines --------------------------------------------------------------------------------

export const CreatePipelineInput = mutationInput<{ pipeline: PipelineInput; tags?: TagInput[] | null }>(
  "CreatePipelineInput",
  "A pipeline document, and the tags it starts with (CodePipeline's CreatePipeline).",
  {
    pipeline: { type: () => PipelineInput },
    tags: {
      type: () => [TagInput],
      nullable: true,
      description: "At most 50, keys unique.",
    },
  },
);
export const UpdatePipelineInput = mutationInput<{ pipeline: PipelineInput; expectedVersion: number }>(
  "UpdatePipelineInput",
  "The pipeline's new document (found by its name), and the version it replaces.",
  {
    pipeline: { type: () => PipelineInput },
    expectedVersion: { type: () => Int, description: "CONFLICT when the stored version is not this one." },
  },
);
export const PipelinePayload = (name: string, description: string) =>
  mutationPayload<{ pipeline: PipelineType }>(name, description, { pipeline: { type: () => PipelineType } });
export const CreatePipelinePayload = PipelinePayload("CreatePipelinePayload", "The pipeline, at version 1.");
export const UpdatePipelinePayload = PipelinePayload("UpdatePipelinePayload", "The pipeline, as stored now.");
export const EditStagesPayload = PipelinePayload("EditStagesPayload", "The pipeline, at its new version.");

export const EditStagesInput = mutationInput<{
  pipelineName: string;
  expectedVersion: number;
  edits: StageEditInput[];
}>("EditStagesInput", "Stage and action edits, applied in order, as one new version.", {
  pipelineName: str,
  expectedVersion: { type: () => Int },
  edits: { type: () => [StageEditInput] },
});

export const DeletePipelineInput = mutationInput<{ name: string }>(
  "DeletePipelineInput",
  "The pipeline to delete, with its versions.",
  { name: str },
);
export const DeletePipelinePayload = mutationPayload<{ deletedPipelineName: string }>(
  "DeletePipelinePayload",
  "The name of the pipeline deleted.",
  { deletedPipelineName: str },
);

export const ImportPipelineInput = mutationInput<{ document: unknown }>(
  "ImportPipelineInput",
  "Sluice's document, or `aws codepipeline get-pipeline` JSON.",
  { document: { type: () => JSONScalar } },
);

export const TagResourceInput = mutationInput<{ resourceArn: string; tags: TagInput[] }>(
  "TagResourceInput",
  "Tags to add to a pipeline, or new values for keys it holds.",
  {
    resourceArn: { ...str, description: "The pipeline's SRN (Pipeline.srn)." },
    tags: { type: () => [TagInput] },
  },
);
export const UntagResourceInput = mutationInput<{ resourceArn: string; tagKeys: string[] }>(
  "UntagResourceInput",
  "Tag keys to remove from a pipeline.",
  {
    resourceArn: { ...str, description: "The pipeline's SRN (Pipeline.srn)." },
    tagKeys: { type: () => [String] },
  },
);
const TagsPayload = (name: string) =>
  mutationPayload<{ resourceTags: ResourceTagsType }>(name, "The pipeline's tags now.", {
    resourceTags: { type: () => ResourceTagsType },
  });
export const TagResourcePayload = TagsPayload("TagResourcePayload");
export const UntagResourcePayload = TagsPayload("UntagResourcePayload");

// ---- Executions -------------------------------------------------------------------------------

export const StartPipelineExecutionInput = mutationInput<{
  pipelineName: string;
  sourceRevisions?: SourceRevisionInput[] | null;
  variables?: PipelineVariableOverride[] | null;
  clientRequestToken?: string | null;
}>(
  "StartPipelineExecutionInput",
  "The pipeline to start, with source revisions (the latest of each source when left out) and variable overrides.",
  {
    pipelineName: str,
    sourceRevisions: { type: () => [SourceRevisionInput], nullable: true },
    variables: { type: () => [PipelineVariableOverride], nullable: true },
    clientRequestToken: {
      ...optStr,
      description: "The same token twice starts one execution (1–128 of A-Z a-z 0-9 _ -).",
    },
  },
);
const ExecutionPayload = (name: string, description: string) =>
  mutationPayload<{ pipelineExecution: PipelineExecutionType }>(name, description, {
    pipelineExecution: { type: () => PipelineExecutionType },
  });
export const StartPipelineExecutionPayload = ExecutionPayload(
  "StartPipelineExecutionPayload",
  "The execution started (or the one the same clientRequestToken started before).",
);
export const StopPipelineExecutionInput = mutationInput<{
  executionId: string;
  abandon: boolean;
  reason: string;
}>(
  "StopPipelineExecutionInput",
  "abandon false: running actions finish, then Stopped; true: they are abandoned at once.",
  {
    executionId: id,
    abandon: { ...bool, defaultValue: false },
    reason: { ...str, defaultValue: "", description: "At most 200 characters." },
  },
);
export const StopPipelineExecutionPayload = ExecutionPayload(
  "StopPipelineExecutionPayload",
  "The execution, stopping or stopped.",
);
export const RetryStageExecutionInput = mutationInput<{
  executionId: string;
  stageName: string;
  mode: RetryModeEnum;
}>("RetryStageExecutionInput", "A failed or stopped stage of the latest execution in it.", {
  executionId: id,
  stageName: str,
  mode: { type: () => RetryModeEnum, defaultValue: RetryModeEnum.FAILED_ACTIONS },
});
export const RetryStageExecutionPayload = ExecutionPayload(
  "RetryStageExecutionPayload",
  "The execution, running the stage again.",
);
export const RollbackStageInput = mutationInput<{
  pipelineName: string;
  stageName: string;
  targetExecutionId: string;
}>("RollbackStageInput", "A stage, and an earlier execution that succeeded there.", {
  pipelineName: str,
  stageName: str,
  targetExecutionId: id,
});
export const RollbackStagePayload = ExecutionPayload(
  "RollbackStagePayload",
  "The execution started to re-run the stage.",
);

export const EnableStageTransitionInput = mutationInput<{ pipelineName: string; stageName: string }>(
  "EnableStageTransitionInput",
  "The stage whose inbound transition opens: the execution waiting there goes in.",
  { pipelineName: str, stageName: str },
);
export const DisableStageTransitionInput = mutationInput<{
  pipelineName: string;
  stageName: string;
  reason: string;
}>(
  "DisableStageTransitionInput",
  "The stage whose inbound transition closes: executions arriving there wait.",
  { pipelineName: str, stageName: str, reason: { ...str, description: "Why: shown to whoever waits." } },
);
const TransitionPayload = (name: string) =>
  mutationPayload<{ transition: TransitionStateType }>(name, "The stage's inbound transition now.", {
    transition: { type: () => TransitionStateType },
  });
export const EnableStageTransitionPayload = TransitionPayload("EnableStageTransitionPayload");
export const DisableStageTransitionPayload = TransitionPayload("DisableStageTransitionPayload");

export const PutApprovalResultInput = mutationInput<{
  actionExecutionId: string;
  approved: boolean;
  summary: string;
}>("PutApprovalResultInput", "The decision on a pending manual approval.", {
  actionExecutionId: id,
  approved: bool,
  summary: { ...str, defaultValue: "", description: "At most 512 characters." },
});
export const PutApprovalResultPayload = mutationPayload<{ actionExecution: ActionExecutionType }>(
  "PutApprovalResultPayload",
  "The approval action, decided.",
  { actionExecution: { type: () => ActionExecutionType } },
);

// ---- Action types, webhooks, agents, installation -----------------------------------------

export const CreateCustomActionTypeInput = mutationInput<{ actionType: CustomActionTypeInput }>(
  "CreateCustomActionTypeInput",
  "An owner `Custom` action type.",
  { actionType: { type: () => CustomActionTypeInput } },
);
export const CreateCustomActionTypePayload = mutationPayload<{ actionType: ActionTypeDeclarationType }>(
  "CreateCustomActionTypePayload",
  "The action type added.",
  { actionType: { type: () => ActionTypeDeclarationType } },
);
export const DeleteCustomActionTypeInput = mutationInput<{
  category: string;
  provider: string;
  version: string;
}>("DeleteCustomActionTypeInput", "A custom action type no pipeline uses.", {
  category: str,
  provider: str,
  version: str,
});
export const DeleteCustomActionTypePayload = mutationPayload<{ deletedActionTypeId: ActionTypeIdType }>(
  "DeleteCustomActionTypePayload",
  "The id of the action type removed.",
  { deletedActionTypeId: { type: () => ActionTypeIdType } },
);

export const PutWebhookInput = mutationInput<{ pipelineName: string }>(
  "PutWebhookInput",
  "The pipeline whose webhook is created, or whose secret is replaced.",
  { pipelineName: str },
);
export const PutWebhookPayload = mutationPayload<{ url: string; secret: string }>(
  "PutWebhookPayload",
  "Where to send pushes, and the secret to sign them with (in this answer only).",
  { url: str, secret: str },
);
export const DeleteWebhookInput = mutationInput<{ pipelineName: string }>(
  "DeleteWebhookInput",
  "The pipeline whose webhook is removed.",
  { pipelineName: str },
);
export const DeleteWebhookPayload = mutationPayload<{ pipelineName: string }>(
  "DeleteWebhookPayload",
  "The pipeline that has no webhook now.",
  { pipelineName: str },
);

export const CreateAgentTokenInput = mutationInput<{ description: string }>(
  "CreateAgentTokenInput",
  "What the token is for: 1 to 200 characters.",
  { description: str },
);
export const RevokeAgentTokenInput = mutationInput<{ id: string }>(
  "RevokeAgentTokenInput",
  "The agent token to revoke.",
  { id },
);
export const RevokeAgentTokenPayload = mutationPayload<{ agentToken: AgentTokenType }>(
  "RevokeAgentTokenPayload",
  "The token, revoked.",
  { agentToken: { type: () => AgentTokenType } },
);

export const ExportInstallationInput = mutationInput<{ includeExecutions: boolean }>(
  "ExportInstallationInput",
  "What the archive holds beyond the definitions.",
  {
    includeExecutions: {
      ...bool,
      defaultValue: false,
      description:
        "Also the finished executions with their history (secret values masked); their logs and artifacts stay in NATS.",
    },
  },
);
export const ExportInstallationPayload = mutationPayload<{ archive: unknown }>(
  "ExportInstallationPayload",
  "The archive (docs/backup.md).",
  { archive: { type: () => JSONScalar } },
);
export const ImportInstallationInput = mutationInput<{ archive: unknown }>(
  "ImportInstallationInput",
  "An archive from exportInstallationV2.",
  { archive: { type: () => JSONScalar } },
);
export const ImportInstallationPayload = mutationPayload<{ installationImport: InstallationImportType }>(
  "ImportInstallationPayload",
  "What was added.",
  { installationImport: { type: () => InstallationImportType } },
);
export const RotateMasterKeyInput = mutationInput<object>(
  "RotateMasterKeyInput",
  "Nothing but the clientMutationId.",
  {},
);
export const RotateMasterKeyPayload = mutationPayload<{ rotation: MasterKeyRotationType }>(
  "RotateMasterKeyPayload",
  "How the rotation went.",
  { rotation: { type: () => MasterKeyRotationType } },
);
export const RotateSigningKeyInput = mutationInput<{ graceSeconds?: number | null }>(
  "RotateSigningKeyInput",
  "How long the keys signing before stay accepted.",
  {
    graceSeconds: {
      type: () => Int,
      nullable: true,
      description: `Seconds the previous keys stay accepted: 0 to ${MAX_SIGNING_KEY_GRACE_SECONDS} (default ${DEFAULT_SIGNING_KEY_GRACE_SECONDS}).`,
    },
  },
);
export const RotateSigningKeyPayload = mutationPayload<{ rotation: SigningKeyRotationType }>(
  "RotateSigningKeyPayload",
  "The new key, and the keys being retired.",
  { rotation: { type: () => SigningKeyRotationType } },
);

// ---- Identity -------------------------------------------------------------------------------

export const CreateUserInput = mutationInput<{
  name: string;
  displayName?: string | null;
  email?: string | null;
}>("CreateUserInput", "A user (with no policy: attach one).", {
  name: str,
  displayName: optStr,
  email: optStr,
});
export const CreateUserPayload = mutationPayload<{ user: UserType }>("CreateUserPayload", "The user.", {
  user: { type: () => UserType },
});
export const CreateGroupInput = mutationInput<{ name: string }>("CreateGroupInput", "A group.", {
  name: str,
});
export const CreateGroupPayload = mutationPayload<{ group: GroupType }>("CreateGroupPayload", "The group.", {
  group: { type: () => GroupType },
});
const membership = { groupName: str, userName: str };
export const AddUserToGroupInput = mutationInput<{ groupName: string; userName: string }>(
  "AddUserToGroupInput",
  "A user to add to a group.",
  membership,
);
export const RemoveUserFromGroupInput = mutationInput<{ groupName: string; userName: string }>(
  "RemoveUserFromGroupInput",
  "A user to remove from a group.",
  membership,
);
const MembershipPayload = (name: string) =>
  mutationPayload<{ groupName: string; userName: string; changed: boolean }>(
    name,
    "The membership, and whether this call changed it.",
    {
      groupName: str,
      userName: str,
      changed: { ...bool, description: "False when the membership already was as asked." },
    },
  );
export const AddUserToGroupPayload = MembershipPayload("AddUserToGroupPayload");
export const RemoveUserFromGroupPayload = MembershipPayload("RemoveUserFromGroupPayload");

export const CreateServiceAccountInput = mutationInput<{ name: string; description?: string | null }>(
  "CreateServiceAccountInput",
  "A service account.",
  { name: str, description: optStr },
);
export const CreateServiceAccountPayload = mutationPayload<{ serviceAccount: ServiceAccountType }>(
  "CreateServiceAccountPayload",
  "The service account.",
  { serviceAccount: { type: () => ServiceAccountType } },
);
export const CreateApiTokenInput = mutationInput<{
  principal: string;
  description: string;
  expiresAt?: Date | null;
}>("CreateApiTokenInput", "A new API token for a user or service account.", {
  principal: { ...str, description: "user/<name> or service-account/<name>." },
  description: str,
  expiresAt: { type: () => DateTimeScalar, nullable: true },
});
export const RevokeApiTokenInput = mutationInput<{ id: string }>(
  "RevokeApiTokenInput",
  "The API token to revoke.",
  { id },
);
export const RevokeApiTokenPayload = mutationPayload<{ apiToken: ApiTokenType }>(
  "RevokeApiTokenPayload",
  "The token, revoked.",
  { apiToken: { type: () => ApiTokenType } },
);
export const PutPolicyInput = mutationInput<{
  name: string;
  document: Record<string, unknown>;
  description?: string | null;
}>("PutPolicyInput", "A customer policy to create or replace (validated first).", {
  name: str,
  document: { type: () => JSONObjectScalar },
  description: optStr,
});
export const PutPolicyPayload = mutationPayload<{ policy: PolicyType }>("PutPolicyPayload", "The policy.", {
  policy: { type: () => PolicyType },
});
export const DeletePolicyInput = mutationInput<{ name: string }>(
  "DeletePolicyInput",
  "A customer policy attached nowhere.",
  { name: str },
);
export const DeletePolicyPayload = mutationPayload<{ deletedPolicyName: string }>(
  "DeletePolicyPayload",
  "The name of the policy deleted.",
  { deletedPolicyName: str },
);
const attachment = {
  policyName: str,
  principal: { ...str, description: "user/<name>, group/<name>, service-account/<name> or role/<name>." },
};
export const AttachPolicyInput = mutationInput<{ policyName: string; principal: string }>(
  "AttachPolicyInput",
  "A policy to attach to a principal.",
  attachment,
);
export const DetachPolicyInput = mutationInput<{ policyName: string; principal: string }>(
  "DetachPolicyInput",
  "A policy to detach from a principal.",
  attachment,
);
const AttachmentPayload = (name: string) =>
  mutationPayload<{ policyName: string; principal: string; changed: boolean }>(
    name,
    "The attachment, and whether this call changed it.",
    {
      policyName: str,
      principal: str,
      changed: { ...bool, description: "False when the attachment already was as asked." },
    },
  );
export const AttachPolicyPayload = AttachmentPayload("AttachPolicyPayload");
export const DetachPolicyPayload = AttachmentPayload("DetachPolicyPayload");

export const CreateAccountInput = mutationInput<{ id: string; description?: string | null }>(
  "CreateAccountInput",
  "An account (tenant).",
  {
    id: { ...str, description: "1 to 64 letters, digits, _ and -: what its SRNs carry." },
    description: optStr,
  },
);
export const CreateAccountPayload = mutationPayload<{ account: AccountType }>(
  "CreateAccountPayload",
  "The account.",
  { account: { type: () => AccountType } },
);
export const PutAccountRetentionInput = mutationInput<{
  account: string;
  executionDays?: number | null;
  maxExecutions?: number | null;
}>(
  "PutAccountRetentionInput",
  "An account's retention; a null or absent field inherits the installation's.",
  {
    account: { ...str, description: "The account's id." },
    executionDays: {
      type: () => Int,
      nullable: true,
      description: "Finished executions older than this many days go (0: no age limit; null: inherit).",
    },
    maxExecutions: {
      type: () => Int,
      nullable: true,
      description:
        "At most this many executions per pipeline, the oldest finished go first (0: no limit; null: inherit).",
    },
  },
);
export const PutAccountRetentionPayload = mutationPayload<{ accountRetention: AccountRetentionType }>(
  "PutAccountRetentionPayload",
  "The account's retention, as set.",
  { accountRetention: { type: () => AccountRetentionType } },
);
export const CreateRoleInput = mutationInput<{
  name: string;
  trustPolicy: Record<string, unknown>;
  description?: string | null;
  maxSessionSeconds?: number | null;
}>("CreateRoleInput", "A role in the caller's account.", {
  name: str,
  trustPolicy: {
    type: () => JSONObjectScalar,
    description:
      'Who may assume it: { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "sluice:AssumeRole", "Principal": { "Sluice": [...] } }] }.',
  },
  description: optStr,
  maxSessionSeconds: {
    type: () => Int,
    nullable: true,
    description: "Longest session, 60 to 43200 seconds (12 h); default 3600.",
  },
});
export const CreateRolePayload = mutationPayload<{ role: RoleType }>("CreateRolePayload", "The role.", {
  role: { type: () => RoleType },
});
export const DeleteRoleInput = mutationInput<{ name: string }>("DeleteRoleInput", "The role to delete.", {
  name: str,
});
export const DeleteRolePayload = mutationPayload<{ deletedRoleName: string; deleted: boolean }>(
  "DeleteRolePayload",
  "The name of the role, and whether it existed.",
  { deletedRoleName: str, deleted: bool },
);
export const AssumeRoleInput = mutationInput<{
  role: string;
  sessionName: string;
  durationSeconds?: number | null;
}>("AssumeRoleInput", "The role to act as, and the session's name.", {
  role: { ...str, description: "role/<name> (the caller's account) or srn:sluice:<account>:role/<name>." },
  sessionName: { ...str, description: "Names the session in the audit log: 2 to 64 of A-Za-z0-9_+=,.@-" },
  durationSeconds: {
    type: () => Int,
    nullable: true,
    description: "5 seconds to the role's maximum session duration; default 3600 (or the maximum, if less).",
  },
});
export const AssumeRolePayload = mutationPayload<{ credentials: RoleCredentialsType }>(
  "AssumeRolePayload",
  "Short-lived credentials acting as the role.",
  { credentials: { type: () => RoleCredentialsType } },
);

export const SignInInput = mutationInput<{ name: string; password: string }>(
  "SignInInput",
  "A user's name and password.",
  { name: str, password: str },
);
export const SignOutInput = mutationInput<object>("SignOutInput", "Nothing but the clientMutationId.", {});
export const SignOutPayload = mutationPayload<{ signedOut: boolean }>(
  "SignOutPayload",
  "Whether a session token was revoked.",
  { signedOut: { ...bool, description: "False when the caller used an API token, which stays valid." } },
);
export const SetUserPasswordInput = mutationInput<{ userName: string; password: string }>(
  "SetUserPasswordInput",
  "A user and its new password.",
  { userName: str, password: str },
);
export const SetUserPasswordPayload = mutationPayload<{ userName: string }>(
  "SetUserPasswordPayload",
  "The user whose password was set; its sessions ended.",
  { userName: str },
);
export const ChangePasswordInput = mutationInput<{ currentPassword: string; newPassword: string }>(
  "ChangePasswordInput",
  "The caller's current password and its new one.",
  { currentPassword: str, newPassword: str },
);
export const ChangePasswordPayload = mutationPayload<{ changed: boolean }>(
  "ChangePasswordPayload",
  "Whether the password changed; the caller's other sessions ended.",
  { changed: bool },
);

export const PutSecretInput = mutationInput<{ name: string; value: string; description?: string | null }>(
  "PutSecretInput",
  "A new version of a secret (created if needed). A null description keeps the stored one.",
  {
    name: str,
    value: { ...str, description: "The value, 1–65,536 characters. Never shown again." },
    description: optStr,
  },
);
export const PutSecretPayload = mutationPayload<{ secret: SecretType }>(
  "PutSecretPayload",
  "The secret (never its value).",
  { secret: { type: () => SecretType } },
);
export const DeleteSecretInput = mutationInput<{ name: string }>(
  "DeleteSecretInput",
  "The secret to delete, with every version.",
  { name: str },
);
export const DeleteSecretPayload = mutationPayload<{ deletedSecretName: string }>(
  "DeleteSecretPayload",
  "The name of the secret deleted.",
  { deletedSecretName: str },
);

// ---- Notifications ------------------------------------------------------------------------

export const CreateNotificationRuleInput = mutationInput<{ rule: NotificationRuleInput }>(
  "CreateNotificationRuleInput",
  "A notification rule.",
  { rule: { type: () => NotificationRuleInput } },
);
export const UpdateNotificationRuleInput = mutationInput<{ id: string; rule: NotificationRuleInput }>(
  "UpdateNotificationRuleInput",
  "A rule and all its new fields.",
  { id, rule: { type: () => NotificationRuleInput } },
);
const RulePayload = (name: string) =>
  mutationPayload<{ notificationRule: NotificationRuleType }>(name, "The rule.", {
    notificationRule: { type: () => NotificationRuleType },
  });
export const CreateNotificationRulePayload = RulePayload("CreateNotificationRulePayload");
export const UpdateNotificationRulePayload = RulePayload("UpdateNotificationRulePayload");
export const DeleteNotificationRuleInput = mutationInput<{ id: string }>(
  "DeleteNotificationRuleInput",
  "The rule to delete; its delivery log stays (ruleId null).",
  { id },
);
export const DeleteNotificationRulePayload = mutationPayload<{ deletedNotificationRuleId: string }>(
  "DeleteNotificationRulePayload",
  "The id of the rule deleted.",
  { deletedNotificationRuleId: id },
);
export const TestNotificationRuleInput = mutationInput<{ id: string }>(
  "TestNotificationRuleInput",
  "The rule whose targets get a TEST message now.",
  { id },
);
export const TestNotificationRulePayload = mutationPayload<{
  notificationDeliveries: NotificationDeliveryType[];
}>("TestNotificationRulePayload", "The deliveries made, one per target.", {
  notificationDeliveries: { type: () => [NotificationDeliveryType] },
});
export const CreateNotificationTargetInput = mutationInput<{ target: NotificationTargetInput }>(
  "CreateNotificationTargetInput",
  "A notification target.",
  { target: { type: () => NotificationTargetInput } },
);
export const UpdateNotificationTargetInput = mutationInput<{ id: string; target: NotificationTargetInput }>(
  "UpdateNotificationTargetInput",
  "A target and its new settings (`****` keeps a stored secret).",
  { id, target: { type: () => NotificationTargetInput } },
);
const TargetPayload = (name: string) =>
  mutationPayload<{ notificationTarget: NotificationTargetType }>(
    name,
    "The target; secrets show as `****`.",
    {
      notificationTarget: { type: () => NotificationTargetType },
    },
  );
export const CreateNotificationTargetPayload = TargetPayload("CreateNotificationTargetPayload");
export const UpdateNotificationTargetPayload = TargetPayload("UpdateNotificationTargetPayload");
export const DeleteNotificationTargetInput = mutationInput<{ id: string }>(
  "DeleteNotificationTargetInput",
  "A target no rule uses; its delivery log goes with it.",
  { id },
);
export const DeleteNotificationTargetPayload = mutationPayload<{ deletedNotificationTargetId: string }>(
  "DeleteNotificationTargetPayload",
  "The id of the target deleted.",
  { deletedNotificationTargetId: id },
);
export const RedeliverNotificationInput = mutationInput<{ id: string }>(
  "RedeliverNotificationInput",
  "The delivery to send again, with the same message id.",
  { id },
);
export const RedeliverNotificationPayload = mutationPayload<{
  notificationDelivery: NotificationDeliveryType;
}>("RedeliverNotificationPayload", "The delivery, sent again.", {
  notificationDelivery: { type: () => NotificationDeliveryType },
});
