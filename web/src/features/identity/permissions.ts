import type { EffectivePermissionsQuery } from "@/gql/graphql";

type Allowed = Omit<EffectivePermissionsQuery["whoAmI"], "principal" | "__typename">;

/** Which resource of EFFECTIVE_PERMISSIONS an answer is about. */
export type PermissionResource = "pipeline" | "agents" | "notifications" | "installation" | "audit" | "self";

/** The rows of /me's effective-permission table, in the order shown: the answer's key, the action. */
export const COMMON_PERMISSIONS: ReadonlyArray<{
  key: keyof Allowed;
  action: string;
  resource: PermissionResource;
  what: string;
}> = [
  { key: "getPipeline", action: "sluice:GetPipeline", resource: "pipeline", what: "See the pipeline" },
  {
    key: "getPipelineState",
    action: "sluice:GetPipelineState",
    resource: "pipeline",
    what: "See its live state",
  },
  {
    key: "listExecutions",
    action: "sluice:ListPipelineExecutions",
    resource: "pipeline",
    what: "Read its history",
  },
  { key: "getLogs", action: "sluice:GetLogs", resource: "pipeline", what: "Read its logs" },
  { key: "createPipeline", action: "sluice:CreatePipeline", resource: "pipeline", what: "Create it" },
  { key: "updatePipeline", action: "sluice:UpdatePipeline", resource: "pipeline", what: "Edit it" },
  { key: "deletePipeline", action: "sluice:DeletePipeline", resource: "pipeline", what: "Delete it" },
  {
    key: "startExecution",
    action: "sluice:StartPipelineExecution",
    resource: "pipeline",
    what: "Release a change",
  },
  {
    key: "stopExecution",
    action: "sluice:StopPipelineExecution",
    resource: "pipeline",
    what: "Stop an execution",
  },
  { key: "retryStage", action: "sluice:RetryStageExecution", resource: "pipeline", what: "Retry a stage" },
  { key: "manageAgents", action: "sluice:ManageAgents", resource: "agents", what: "Manage agent tokens" },
  {
    key: "manageNotifications",
    action: "sluice:ManageNotifications",
    resource: "notifications",
    what: "Change notifications",
  },
  {
    key: "exportInstallation",
    action: "sluice:ExportInstallation",
    resource: "installation",
    what: "Back up the installation",
  },
  { key: "readAudit", action: "sluice:ReadAudit", resource: "audit", what: "Read the audit log" },
  {
    key: "manageOwnTokens",
    action: "sluice:ManageIdentity",
    resource: "self",
    what: "Manage your own API tokens",
  },
];

/** Pipeline names as SRNs can carry them (the server's pipeline name rule). */
export const PIPELINE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;

/** The SRNs the table asks about, for the caller acting in `account` (all but the installation live there). */
export function permissionResources(input: {
  pipeline: string;
  actingAccount: string;
  self: string;
}): Record<PermissionResource, string> {
  return {
    // Pipelines, agents and notifications are the acting account's; the installation is the
    // default account's.
    pipeline: `srn:sluice:${input.actingAccount}:pipeline/${input.pipeline}`,
    agents: `srn:sluice:${input.actingAccount}:agent-token`,
    notifications: `srn:sluice:${input.actingAccount}:notifications`,
    installation: "srn:sluice:default:installation",
    audit: `srn:sluice:${input.actingAccount}:audit`,
    self: input.self,
  };
}
