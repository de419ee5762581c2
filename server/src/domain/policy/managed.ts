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

const document = (...Statement: PolicyDocument["Statement"]): PolicyDocument => ({
  Version: POLICY_VERSION,
  Statement,
});

export const MANAGED_POLICIES = {
  /** Sees pipelines, their state, history, logs and artifacts, action types and agents; changes nothing. */
  ReadOnly: document({ Sid: "Read", Effect: "Allow", Action: READ, Resource: ["*"] }),
  /** ReadOnly, and runs releases: start, stop, retry, roll back, transitions, approvals. */
  Operator: document(
    { Sid: "Read", Effect: "Allow", Action: READ, Resource: ["*"] },
    { Sid: "Release", Effect: "Allow", Action: RELEASE, Resource: [PIPELINES] },
  ),
  /** Operator, and creates, edits and deletes pipelines, their webhooks, custom action types and notification rules. */
  PipelineAdmin: document(
    { Sid: "Read", Effect: "Allow", Action: READ, Resource: ["*"] },
    {
      Sid: "Pipelines",
      Effect: "Allow",
      Action: [...RELEASE, "sluice:CreatePipeline", "sluice:UpdatePipeline", "sluice:DeletePipeline"],
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
  /** Everything, including agents, identities and the audit log. */
  Admin: document({ Sid: "All", Effect: "Allow", Action: ["*"], Resource: ["*"] }),
} as const satisfies Record<string, PolicyDocument>;

export type ManagedPolicyName = keyof typeof MANAGED_POLICIES;

export function managedPolicy(name: ManagedPolicyName): NamedPolicy {
  return { name, document: MANAGED_POLICIES[name] };
}
