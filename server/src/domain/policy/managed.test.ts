import { ACTION_CATALOGUE, ACTION_NAMES, READ_ACTIONS, WRITE_ACTIONS, type ActionName } from "./actions";
import { compilePolicies } from "./evaluator";
import { MANAGED_POLICIES, managedPolicy, type ManagedPolicyName } from "./managed";
import { validatePolicy } from "./validate";
import { srn } from "./__tests__/helpers";

/** A resource of the kind each action is about, for checking what a managed policy allows. */
const RESOURCE_OF: Record<string, string> = {
  pipeline: srn("pipeline/web"),
  stage: srn("pipeline/web/stage/Prod"),
  action: srn("pipeline/web/stage/Prod/action/Approve"),
  "action-type": srn("action-type/Build/Custom/Gradle/1"),
  agent: srn("agent/default/b1"),
  "agent-token": srn("agent-token"),
  webhook: srn("webhook/web"),
  audit: srn("audit"),
  notifications: srn("notifications"),
  installation: srn("installation"),
  identity: srn("user/alice"),
  role: srn("role/deployer"),
  account: "srn:sluice:default:account/team-b",
  secret: srn("secret/db-password"),
};

function allowedBy(name: ManagedPolicyName): ActionName[] {
  const compiled = compilePolicies([managedPolicy(name)]);
  return ACTION_NAMES.filter((a) => compiled.isAllowed(a, RESOURCE_OF[ACTION_CATALOGUE[a].resource]!));
}

const RELEASE: ActionName[] = [
  "sluice:StartPipelineExecution",
  "sluice:StopPipelineExecution",
  "sluice:RetryStageExecution",
  "sluice:RollbackStage",
  "sluice:EnableStageTransition",
  "sluice:DisableStageTransition",
  "sluice:PutApprovalResult",
];

describe("managed policies", () => {
  it.each(Object.keys(MANAGED_POLICIES))("%s is a valid policy document", (name) => {
    const document = MANAGED_POLICIES[name as ManagedPolicyName];
    expect(validatePolicy(document)).toEqual({ ok: true, document });
  });

  it("ReadOnly allows reading pipelines, action types and agents, and nothing else", () => {
    expect(allowedBy("ReadOnly")).toEqual(
      // An export holds every definition and the agent tokens' digests: Admin only, as the audit log.
      // A secret's value neither: ReadOnly sees the secrets' names only.
      READ_ACTIONS.filter(
        (a) =>
          a !== "sluice:ReadAudit" &&
          a !== "sluice:SimulatePolicy" &&
          a !== "sluice:ExportInstallation" &&
          a !== "sluice:GetSecretValue",
      ),
    );
    expect(allowedBy("ReadOnly")).toContain("sluice:ListSecrets");
    expect(allowedBy("ReadOnly").filter((a) => WRITE_ACTIONS.includes(a))).toEqual([]);
  });

  it("Operator is ReadOnly plus releases (start, stop, retry, roll back, transitions, approve)", () => {
    expect(allowedBy("Operator")).toEqual(
      ACTION_NAMES.filter((a) => allowedBy("ReadOnly").includes(a) || RELEASE.includes(a)),
    );
  });

  it("PipelineAdmin is Operator plus pipelines, webhooks, custom action types and notifications; not agents, identities or audit", () => {
    expect(allowedBy("PipelineAdmin")).toEqual(
      ACTION_NAMES.filter(
        (a) =>
          allowedBy("Operator").includes(a) ||
          [
            "sluice:CreatePipeline",
            "sluice:UpdatePipeline",
            "sluice:DeletePipeline",
            "sluice:TagResource",
            "sluice:UntagResource",
            "sluice:ManageWebhooks",
            "sluice:CreateCustomActionType",
            "sluice:DeleteCustomActionType",
            "sluice:ManageNotifications",
          ].includes(a),
      ),
    );
  });

  it("every managed policy lists tags (a List action); only PipelineAdmin and Admin change them", () => {
    for (const name of ["ReadOnly", "Operator", "PipelineAdmin", "Admin"] as const)
      expect(allowedBy(name)).toContain("sluice:ListTagsForResource");
    for (const name of ["ReadOnly", "Operator"] as const) {
      expect(allowedBy(name)).not.toContain("sluice:TagResource");
      expect(allowedBy(name)).not.toContain("sluice:UntagResource");
    }
    for (const name of ["PipelineAdmin", "Admin"] as const)
      expect(allowedBy(name)).toEqual(expect.arrayContaining(["sluice:TagResource", "sluice:UntagResource"]));
  });

  it("no managed policy but Admin allows a secret's value or changing the secret store", () => {
    for (const name of ["ReadOnly", "Operator", "PipelineAdmin"] as const) {
      expect(allowedBy(name)).not.toContain("sluice:GetSecretValue");
      expect(allowedBy(name)).not.toContain("sluice:ManageSecrets");
    }
    expect(allowedBy("Admin")).toEqual(
      expect.arrayContaining(["sluice:GetSecretValue", "sluice:ManageSecrets"]),
    );
  });

  it("Admin allows everything", () => {
    expect(allowedBy("Admin")).toEqual(ACTION_NAMES);
  });
});
