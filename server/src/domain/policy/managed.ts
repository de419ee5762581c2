/**
 * The managed policies every installation has (attach them by name; they cannot be edited).
 * docs/policies.md describes them; managed.test.ts pins what each allows.
 */
import { POLICY_VERSION, type NamedPolicy, type PolicyDocument } from "./document";

const READ = ["sluice:Get*", "sluice:List*"];

const RELEASE = [
  "sluice:StartPipelineExecution",
  "sluice:StopPipelineExecution",
  "sluice:RetryStageExecution",
  "sluice:RollbackStage",
  "sluice:EnableStageTransition",
  "sluice:DisableStageTransition",
  "sluice:PutApprovalResult",
];

const PIPELINES = "srn:sluice:*:pipeline/*";

const SECRETS = "srn:sluice:*:secret/*";

/**
 * Reading, in every managed policy but Admin: everything a Get or List allows, except the secret
 * store's values (sluice:GetSecretValue); of the secrets, only their names and metadata.
 */
const READ_STATEMENTS: PolicyDocument["Statement"] = [
  { Sid: "Read", Effect: "Allow", Action: READ, NotResource: [SECRETS] },
  { Sid: "SecretNames", Effect: "Allow", Action: ["sluice:ListSecrets"], Resource: [SECRETS] },
];

const document = (...Statement: PolicyDocument["Statement"]): PolicyDocument => ({
  Version: POLICY_VERSION,
  Statement,
});

export const MANAGED_POLICIES = {
  /**
   * Sees pipelines, their state, history, logs and artifacts, action types, agents and the names
   * of secrets (never their values); changes nothing.
   */
  ReadOnly: document(...READ_STATEMENTS),
  /** ReadOnly, and runs releases: start, stop, retry, roll back, transitions, approvals. */
  Operator: document(...READ_STATEMENTS, {
    Sid: "Release",
    Effect: "Allow",
    Action: RELEASE,
    Resource: [PIPELINES],
  }),
  /**
   * Operator, and creates, edits, tags and deletes pipelines, their webhooks, custom action types
   * and notification rules.
   */
  PipelineAdmin: document(
    ...READ_STATEMENTS,
    {
      Sid: "Pipelines",
      Effect: "Allow",
      Action: [
        ...RELEASE,
        "sluice:CreatePipeline",
        "sluice:UpdatePipeline",
        "sluice:DeletePipeline",
        "sluice:TagResource",
        "sluice:UntagResource",
      ],
      Resource: [PIPELINES],
    },
    {
      Sid: "Webhooks",
      Effect: "Allow",
      Action: ["sluice:ManageWebhooks"],
      Resource: ["srn:sluice:*:webhook/*"],
    },
    {
      Sid: "ActionTypes",
      Effect: "Allow",
      Action: ["sluice:CreateCustomActionType", "sluice:DeleteCustomActionType"],
      Resource: ["srn:sluice:*:action-type/*"],
    },
    {
      Sid: "Notifications",
      Effect: "Allow",
      Action: ["sluice:ManageNotifications"],
      Resource: ["srn:sluice:*:notifications"],
    },
  ),
  /** Everything, including agents, identities, the audit log and the secret store's values. */
  Admin: document({ Sid: "All", Effect: "Allow", Action: ["*"], Resource: ["*"] }),
} as const satisfies Record<string, PolicyDocument>;

export type ManagedPolicyName = keyof typeof MANAGED_POLICIES;

export function managedPolicy(name: ManagedPolicyName): NamedPolicy {
  return { name, document: MANAGED_POLICIES[name] };
}
