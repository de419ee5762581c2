import { WRITE_ACTIONS } from "./actions";
import { compilePolicies, type Evaluation } from "./evaluator";
import { managedPolicy } from "./managed";
import { compilePrincipal } from "./principal";
import { simulatePolicy } from "./simulate";
import { policy, srn } from "./__tests__/helpers";

const allow = (Action: unknown, Resource: unknown, Sid?: string) => ({
  Sid,
  Effect: "Allow",
  Action,
  Resource,
});
const deny = (Action: unknown, Resource: unknown, Sid?: string) => ({
  Sid,
  Effect: "Deny",
  Action,
  Resource,
});
const doc = (...Statement: unknown[]) => ({ Version: "2012-10-17", Statement });

const decide = (e: Evaluation) => e.decision;

describe("evaluate", () => {
  it("denies what no statement allows", () => {
    const compiled = compilePolicies([policy("p", doc(allow("sluice:GetPipeline", srn("pipeline/web"))))]);
    expect(compiled.evaluate("sluice:GetPipeline", srn("pipeline/api"))).toEqual({
      decision: "IMPLICIT_DENY",
      statement: null,
    });
    expect(decide(compiled.evaluate("sluice:DeletePipeline", srn("pipeline/web")))).toBe("IMPLICIT_DENY");
    expect(compilePolicies([]).evaluate("sluice:GetPipeline", srn("pipeline/web")).decision).toBe(
      "IMPLICIT_DENY",
    );
  });

  it("allows and names the statement that allowed", () => {
    const compiled = compilePolicies([
      {
        ...policy(
          "p",
          doc(allow("sluice:ListPipelines", "*"), allow("sluice:GetPipeline", srn("pipeline/web"), "Web")),
        ),
        attachedTo: "user/alice",
      },
    ]);
    expect(compiled.evaluate("sluice:GetPipeline", srn("pipeline/web"))).toEqual({
      decision: "ALLOW",
      statement: { policy: "p", attachedTo: "user/alice", sid: "Web", index: 1 },
    });
  });

  it.each([
    ["sluice:*", "sluice:DeletePipeline", "ALLOW"],
    ["*", "sluice:ManageIdentity", "ALLOW"],
    ["sluice:Get*", "sluice:GetLogs", "ALLOW"],
    ["sluice:Get*", "sluice:ListPipelines", "IMPLICIT_DENY"],
    ["sluice:*Stage*", "sluice:RetryStageExecution", "ALLOW"],
    ["sluice:*Stage*", "sluice:EnableStageTransition", "ALLOW"],
    ["sluice:*Stage*", "sluice:StartPipelineExecution", "IMPLICIT_DENY"],
    ["sluice:GetPipelin?", "sluice:GetPipeline", "ALLOW"],
    ["sluice:GetPipelin?", "sluice:GetPipelineState", "IMPLICIT_DENY"],
    // IAM matches action names case-insensitively, in the policy and in the request
    ["sluice:getpipeline", "sluice:GetPipeline", "ALLOW"],
    ["sluice:GetPipeline", "SLUICE:GETPIPELINE", "ALLOW"],
  ])("Action %s, request %s: %s", (pattern, action, expected) => {
    const compiled = compilePolicies([policy("p", doc(allow(pattern, "*")))]);
    expect(compiled.evaluate(action, srn("pipeline/web")).decision).toBe(expected);
  });

  it("answers an action outside the catalogue as IAM would (only wildcards reach it)", () => {
    const compiled = compilePolicies([
      policy("p", doc(allow("sluice:*", "*"), allow("sluice:GetPipeline", "*"))),
    ]);
    expect(compiled.evaluate("sluice:Frobnicate", srn("pipeline/web")).statement?.index).toBe(0);
    expect(compiled.evaluate("other:Thing", srn("pipeline/web")).decision).toBe("IMPLICIT_DENY");
  });

  it("an explicit Deny beats every Allow, whatever the order", () => {
    const allowAll = policy("admin", doc(allow("*", "*")));
    const denyProd = policy("no-prod", doc(deny("sluice:*", srn("pipeline/*/stage/Prod*"), "NoProd")));
    for (const order of [
      [allowAll, denyProd],
      [denyProd, allowAll],
    ]) {
      const compiled = compilePolicies(order);
      expect(compiled.evaluate("sluice:RetryStageExecution", srn("pipeline/web/stage/Prod"))).toEqual({
        decision: "DENY",
        statement: { policy: "no-prod", attachedTo: null, sid: "NoProd", index: 0 },
      });
      expect(
        decide(compiled.evaluate("sluice:PutApprovalResult", srn("pipeline/web/stage/Prod/action/Ok"))),
      ).toBe("DENY");
      expect(decide(compiled.evaluate("sluice:RetryStageExecution", srn("pipeline/web/stage/Beta")))).toBe(
        "ALLOW",
      );
    }
  });

  it("a Deny that does not match the resource does not deny", () => {
    const compiled = compilePolicies([
      policy(
        "p",
        doc(deny("sluice:DeletePipeline", srn("pipeline/web")), allow("sluice:DeletePipeline", "*")),
      ),
    ]);
    expect(decide(compiled.evaluate("sluice:DeletePipeline", srn("pipeline/api")))).toBe("ALLOW");
    expect(decide(compiled.evaluate("sluice:DeletePipeline", srn("pipeline/web")))).toBe("DENY");
  });

  it("NotAction: every action but the ones named", () => {
    const compiled = compilePolicies([
      policy(
        "p",
        doc({ Effect: "Allow", NotAction: ["sluice:Delete*", "sluice:ManageIdentity"], Resource: "*" }),
      ),
    ]);
    expect(decide(compiled.evaluate("sluice:UpdatePipeline", srn("pipeline/web")))).toBe("ALLOW");
    expect(decide(compiled.evaluate("sluice:DeletePipeline", srn("pipeline/web")))).toBe("IMPLICIT_DENY");
    expect(
      decide(compiled.evaluate("sluice:DeleteCustomActionType", srn("action-type/Build/Custom/X/1"))),
    ).toBe("IMPLICIT_DENY");
    expect(decide(compiled.evaluate("sluice:ManageIdentity", srn("user/bob")))).toBe("IMPLICIT_DENY");
    // A Deny with NotAction denies everything else: here, all but reading
    const readOnlyFence = policy("fence", doc({ Effect: "Deny", NotAction: "sluice:Get*", Resource: "*" }));
    const fenced = compilePolicies([policy("admin", doc(allow("*", "*"))), readOnlyFence]);
    expect(decide(fenced.evaluate("sluice:GetPipeline", srn("pipeline/web")))).toBe("ALLOW");
    expect(decide(fenced.evaluate("sluice:UpdatePipeline", srn("pipeline/web")))).toBe("DENY");
  });

  it("NotResource: every resource but the ones named", () => {
    const compiled = compilePolicies([
      policy(
        "p",
        doc({
          Effect: "Allow",
          Action: "sluice:StartPipelineExecution",
          NotResource: [srn("pipeline/prod-*")],
        }),
      ),
    ]);
    expect(decide(compiled.evaluate("sluice:StartPipelineExecution", srn("pipeline/web")))).toBe("ALLOW");
    expect(decide(compiled.evaluate("sluice:StartPipelineExecution", srn("pipeline/prod-db")))).toBe(
      "IMPLICIT_DENY",
    );
    const denied = compilePolicies([
      policy("admin", doc(allow("*", "*"))),
      policy(
        "only-web",
        doc({
          Effect: "Deny",
          Action: "sluice:*",
          NotResource: [srn("pipeline/web"), srn("pipeline/web/*")],
        }),
      ),
    ]);
    expect(decide(denied.evaluate("sluice:UpdatePipeline", srn("pipeline/web")))).toBe("ALLOW");
    expect(decide(denied.evaluate("sluice:RetryStageExecution", srn("pipeline/web/stage/Prod")))).toBe(
      "ALLOW",
    );
    expect(decide(denied.evaluate("sluice:UpdatePipeline", srn("pipeline/api")))).toBe("DENY");
  });

  it("a stage-scoped approver approves in that stage and nowhere else", () => {
    const approver = compilePolicies([
      managedPolicy("ReadOnly"),
      policy(
        "web-prod-approver",
        doc(allow("sluice:PutApprovalResult", srn("pipeline/web/stage/Prod/*"), "Approve")),
      ),
    ]);
    const approve = (path: string) => approver.evaluate("sluice:PutApprovalResult", srn(path)).decision;
    expect(approve("pipeline/web/stage/Prod/action/Approve")).toBe("ALLOW");
    expect(approve("pipeline/web/stage/Prod/action/SecurityReview")).toBe("ALLOW");
    expect(approve("pipeline/web/stage/Beta/action/Approve")).toBe("IMPLICIT_DENY");
    expect(approve("pipeline/api/stage/Prod/action/Approve")).toBe("IMPLICIT_DENY");
    expect(approve("pipeline/web-legacy/stage/Prod/action/Approve")).toBe("IMPLICIT_DENY");
    expect(approve("pipeline/web/stage/Production/action/Approve")).toBe("IMPLICIT_DENY");
    expect(approver.evaluate("sluice:RetryStageExecution", srn("pipeline/web/stage/Prod")).decision).toBe(
      "IMPLICIT_DENY",
    );
  });

  it("a stage-scoped retry retries that stage only", () => {
    const retrier = compilePolicies([
      policy("retry-web-build", doc(allow("sluice:RetryStageExecution", srn("pipeline/web/stage/Build")))),
    ]);
    const retry = (path: string) => retrier.evaluate("sluice:RetryStageExecution", srn(path)).decision;
    expect(retry("pipeline/web/stage/Build")).toBe("ALLOW");
    expect(retry("pipeline/web/stage/Prod")).toBe("IMPLICIT_DENY");
    expect(retry("pipeline/web")).toBe("IMPLICIT_DENY");
    expect(retry("pipeline/api/stage/Build")).toBe("IMPLICIT_DENY");
    expect(retrier.evaluate("sluice:RollbackStage", srn("pipeline/web/stage/Build")).decision).toBe(
      "IMPLICIT_DENY",
    );
  });

  it("ReadOnly sees pipelines, state, history and logs and changes nothing", () => {
    const readOnly = compilePolicies([managedPolicy("ReadOnly")]);
    for (const [action, path] of [
      ["sluice:ListPipelines", "pipeline/web"],
      ["sluice:GetPipeline", "pipeline/web"],
      ["sluice:GetPipelineState", "pipeline/web"],
      ["sluice:ListPipelineExecutions", "pipeline/web"],
      ["sluice:GetPipelineExecution", "pipeline/web"],
      ["sluice:GetLogs", "pipeline/web/stage/Build/action/Make"],
    ]) {
      expect([action, readOnly.evaluate(action!, srn(path!)).decision]).toEqual([action, "ALLOW"]);
    }
    const resources = [
      "*",
      "pipeline/web",
      "pipeline/web/stage/Prod",
      "pipeline/web/stage/Prod/action/Approve",
      "webhook/web",
      "agent-token",
      "user/bob",
      "audit",
    ];
    for (const action of WRITE_ACTIONS) {
      for (const path of resources) {
        expect([action, path, readOnly.evaluate(action, srn(path)).decision]).toEqual([
          action,
          path,
          "IMPLICIT_DENY",
        ]);
      }
    }
    expect(readOnly.evaluate("sluice:ReadAudit", srn("audit")).decision).toBe("IMPLICIT_DENY");
  });
});

describe("lists", () => {
  const compiled = compilePolicies([
    policy(
      "p",
      doc(
        allow("sluice:ListPipelines", [srn("pipeline/web*"), srn("pipeline/api")]),
        deny("sluice:ListPipelines", srn("pipeline/web-secret")),
      ),
    ),
  ]);
  const names = ["web", "web-secret", "webshop", "api", "db"];

  it("keeps the resources the action is allowed on, in their order", () => {
    expect(
      compiled.allowedResources(
        "sluice:ListPipelines",
        names.map((n) => srn(`pipeline/${n}`)),
      ),
    ).toEqual(["web", "webshop", "api"].map((n) => srn(`pipeline/${n}`)));
    expect(compiled.allowedItems("sluice:ListPipelines", names, (n) => srn(`pipeline/${n}`))).toEqual([
      "web",
      "webshop",
      "api",
    ]);
    expect(compiled.allowedItems("sluice:GetPipeline", names, (n) => srn(`pipeline/${n}`))).toEqual([]);
  });

  it("mayAllowAny: some Allow covers the action, and no Deny covers every resource", () => {
    expect(compiled.mayAllowAny("sluice:ListPipelines")).toBe(true);
    expect(compiled.mayAllowAny("sluice:GetPipeline")).toBe(false);
    const fenced = compilePolicies([policy("a", doc(allow("*", "*"), deny("sluice:ListAgents", "*")))]);
    expect(fenced.mayAllowAny("sluice:ListAgents")).toBe(false);
    expect(fenced.mayAllowAny("sluice:ListPipelines")).toBe(true);
  });
});

describe("principals", () => {
  const readOnly = managedPolicy("ReadOnly");
  const approver = policy(
    "approve-prod",
    doc(allow("sluice:PutApprovalResult", srn("pipeline/*/stage/Prod/*"))),
  );
  const noDelete = policy("no-delete", doc(deny("sluice:Delete*", "*", "NoDelete")));

  it("a user has its own policies and its groups'", () => {
    const compiled = compilePrincipal({
      kind: "user",
      name: "alice",
      policies: [readOnly],
      groups: [{ name: "release-managers", policies: [approver] }],
    });
    expect(
      compiled.evaluate("sluice:PutApprovalResult", srn("pipeline/web/stage/Prod/action/Go")).statement,
    ).toEqual({
      policy: "approve-prod",
      attachedTo: "group/release-managers",
      sid: null,
      index: 0,
    });
    expect(compiled.evaluate("sluice:GetPipeline", srn("pipeline/web")).statement?.attachedTo).toBe(
      "user/alice",
    );
  });

  it("a group's Deny applies to its members", () => {
    const compiled = compilePrincipal({
      kind: "service-account",
      name: "ci",
      policies: [managedPolicy("Admin")],
      groups: [{ name: "robots", policies: [noDelete] }],
    });
    expect(compiled.evaluate("sluice:DeletePipeline", srn("pipeline/web")).decision).toBe("DENY");
    expect(compiled.evaluate("sluice:UpdatePipeline", srn("pipeline/web")).decision).toBe("ALLOW");
  });

  it("a role session has the role's policies only", () => {
    const compiled = compilePrincipal({
      kind: "role-session",
      role: "deployer",
      policies: [managedPolicy("Operator")],
    });
    expect(
      compiled.evaluate("sluice:StartPipelineExecution", srn("pipeline/web")).statement?.attachedTo,
    ).toBe("role/deployer");
    expect(compiled.evaluate("sluice:UpdatePipeline", srn("pipeline/web")).decision).toBe("IMPLICIT_DENY");
  });

  it("simulatePolicy says which statement decided, in words", () => {
    const holder = {
      kind: "user" as const,
      name: "bob",
      policies: [managedPolicy("Admin")],
      groups: [{ name: "ops", policies: [noDelete] }],
    };
    const denied = simulatePolicy(holder, "sluice:DeletePipeline", srn("pipeline/web"));
    expect(denied).toMatchObject({
      decision: "DENY",
      statement: { policy: "no-delete", sid: "NoDelete", index: 0 },
    });
    expect(denied.explanation).toBe(
      'Denied explicitly by statement 0 (Sid "NoDelete") of policy "no-delete" attached to group/ops; an explicit Deny beats every Allow.',
    );
    expect(simulatePolicy(holder, "sluice:GetPipeline", srn("pipeline/web")).explanation).toBe(
      'Allowed by statement 0 (Sid "All") of policy "Admin" attached to user/bob.',
    );
    const nobody = { kind: "user" as const, name: "eve", policies: [], groups: [] };
    expect(simulatePolicy(nobody, "sluice:GetPipeline", srn("pipeline/web")).explanation).toMatch(
      /^Denied: no statement allows sluice:GetPipeline on srn:sluice:acct1:pipeline\/web/,
    );
  });
});
