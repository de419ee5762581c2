import { approvalSrn, approversOf } from "./approvers";

const allow = (resource: string) => ({
  name: "approvers",
  document: {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["sluice:PutApprovalResult"], Resource: [resource] }],
  },
});
const deny = {
  name: "no-prod",
  document: {
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Action: ["sluice:*"], Resource: ["srn:sluice:default:pipeline/web/*"] }],
  },
};
const user = (name: string, policies: any[], groups: any[] = []) => ({
  name,
  email: `${name}@example.com`,
  policies,
  groups,
});

describe("approversOf", () => {
  const srn = approvalSrn("default", "web", "Prod", "Approve");

  it("names the action's SRN as putApprovalResult is decided on", () => {
    expect(srn).toBe("srn:sluice:default:pipeline/web/stage/Prod/action/Approve");
  });

  it("keeps the users the evaluator allows, through their policies, their groups' or a managed one", () => {
    const users = [
      user("alice", [allow("srn:sluice:default:pipeline/web/stage/Prod/*")]),
      user("bob", [{ name: "ReadOnly", document: null }]),
      user("dave", [], [{ name: "releasers", policies: [allow("srn:sluice:default:pipeline/web/*")] }]),
      user("olga", [{ name: "Operator", document: null }]),
      user("sam", [allow("srn:sluice:default:pipeline/web/stage/Staging/*")]),
      // An explicit Deny wins over the Allow of a group.
      user("eve", [deny], [{ name: "releasers", policies: [allow("*")] }]),
    ];
    expect(approversOf(users, srn).map((u) => u.name)).toEqual(["alice", "dave", "olga"]);
  });

  it("ignores a policy whose document is gone", () => {
    expect(approversOf([user("zed", [{ name: "deleted", document: null }])], srn)).toEqual([]);
  });
});
