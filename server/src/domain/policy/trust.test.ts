import { compilePolicies } from "./evaluator";
import { decideAssumeRole, validateTrustPolicy, type TrustPolicyDocument } from "./trust";
import { policy } from "./__tests__/helpers";

const DEPLOYER = "srn:sluice:111:role/deployer";

function trust(...Statement: unknown[]): TrustPolicyDocument {
  const result = validateTrustPolicy({ Version: "2012-10-17", Statement });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.document;
}

const none = compilePolicies([]);
const mayAssume = compilePolicies([
  policy("assume", {
    Statement: [{ Effect: "Allow", Action: "sluice:AssumeRole", Resource: "srn:sluice:111:role/*" }],
  }),
]);

describe("trust policies", () => {
  const crossAccount = trust({
    Effect: "Allow",
    Action: "sluice:AssumeRole",
    Principal: { Sluice: ["srn:sluice:222:root", "srn:sluice:111:user/alice"] },
  });

  it("a user named in the role's own account assumes it without more", () => {
    const decision = decideAssumeRole(crossAccount, DEPLOYER, {
      srn: "srn:sluice:111:user/alice",
      policies: none,
    });
    expect(decision).toMatchObject({ allowed: true, identity: null });
  });

  it("another account's principals need their own policies to allow sluice:AssumeRole on the role", () => {
    const carol = "srn:sluice:222:user/carol";
    expect(decideAssumeRole(crossAccount, DEPLOYER, { srn: carol, policies: mayAssume })).toMatchObject({
      allowed: true,
      identity: { decision: "ALLOW" },
    });
    expect(decideAssumeRole(crossAccount, DEPLOYER, { srn: carol, policies: none })).toMatchObject({
      allowed: false,
      identity: { decision: "IMPLICIT_DENY" },
      reason: expect.stringMatching(/do not allow sluice:AssumeRole on srn:sluice:111:role\/deployer/),
    });
  });

  it("a principal of an account the trust policy does not name is refused", () => {
    expect(
      decideAssumeRole(crossAccount, DEPLOYER, { srn: "srn:sluice:333:user/mallory", policies: mayAssume }),
    ).toMatchObject({
      allowed: false,
      reason: "The role's trust policy names neither srn:sluice:333:user/mallory nor its account.",
    });
    expect(
      decideAssumeRole(crossAccount, DEPLOYER, { srn: "srn:sluice:111:user/bob", policies: mayAssume })
        .allowed,
    ).toBe(false);
  });

  it("a Deny in the trust policy beats its Allow", () => {
    const fenced = trust(
      { Effect: "Allow", Action: "sluice:AssumeRole", Principal: { Sluice: "srn:sluice:222:root" } },
      { Effect: "Deny", Action: "sluice:AssumeRole", Principal: { Sluice: "srn:sluice:222:user/intern" } },
    );
    expect(
      decideAssumeRole(fenced, DEPLOYER, { srn: "srn:sluice:222:user/intern", policies: mayAssume }),
    ).toMatchObject({
      allowed: false,
      reason: "Statement 1 of the role's trust policy denies srn:sluice:222:user/intern.",
    });
    expect(
      decideAssumeRole(fenced, DEPLOYER, { srn: "srn:sluice:222:user/carol", policies: mayAssume }).allowed,
    ).toBe(true);
  });

  it("refuses a principal that is not an account root, user, group or service account, and Principal *", () => {
    expect(
      validateTrustPolicy({
        Statement: [
          { Effect: "Allow", Action: "sluice:AssumeRole", Principal: "*" },
          {
            Effect: "Allow",
            Action: "sluice:GetPipeline",
            Principal: { Sluice: ["srn:sluice:222:pipeline/web", "srn:sluice:2*:root"] },
          },
          { Effect: "Allow", Action: "sluice:AssumeRole", Principal: { AWS: "arn:aws:iam::1:root" } },
        ],
      }),
    ).toEqual({
      ok: false,
      issues: [
        {
          path: "Statement[0].Principal",
          message: '"Principal": "*" would let anyone assume the role: name accounts or principals.',
        },
        {
          path: "Statement[1].Action",
          message: 'A trust statement\'s Action is "sluice:AssumeRole"; got "sluice:GetPipeline".',
        },
        {
          path: "Statement[1].Principal.Sluice[0]",
          message: expect.stringMatching(/^A principal is "srn:sluice:<account>:root" or a user/),
        },
        { path: "Statement[1].Principal.Sluice[1]", message: '"srn:sluice:2*:root" names no valid account.' },
        {
          path: "Statement[2].Principal",
          message: 'Principal must be { "Sluice": <principal or list of principals> }; got an object.',
        },
      ],
    });
  });
});

describe("trust policies: groups, service accounts and wildcards (table)", () => {
  const ROLE = "srn:sluice:acct-a:role/deployer";
  const policy = trust(
    {
      Sid: "People",
      Effect: "Allow",
      Action: "sluice:AssumeRole",
      Principal: {
        Sluice: [
          "srn:sluice:acct-b:user/alice",
          "srn:sluice:acct-b:group/release-*",
          "srn:sluice:acct-b:service-account/ci-?",
          "srn:sluice:acct-a:user/ops-*",
          "srn:sluice:acct-c:root",
        ],
      },
    },
    {
      Sid: "NotInterns",
      Effect: "Deny",
      Action: "sluice:AssumeRole",
      Principal: { Sluice: ["srn:sluice:acct-b:user/intern*", "srn:sluice:acct-b:group/contractors"] },
    },
  );
  type Row = [string, string, string[], "identity" | "none", boolean];
  const rows: Row[] = [
    // caller, its groups, whose policies, allowed
    [
      "a named user of another account, allowed by its own policies",
      "srn:sluice:acct-b:user/alice",
      [],
      "identity",
      true,
    ],
    [
      "a named user of another account, its policies silent",
      "srn:sluice:acct-b:user/alice",
      [],
      "none",
      false,
    ],
    [
      "a member of a trusted group (wildcard)",
      "srn:sluice:acct-b:user/bob",
      ["srn:sluice:acct-b:group/release-prod"],
      "identity",
      true,
    ],
    [
      "a member of another group",
      "srn:sluice:acct-b:user/bob",
      ["srn:sluice:acct-b:group/qa"],
      "identity",
      false,
    ],
    ["a service account matching ci-?", "srn:sluice:acct-b:service-account/ci-1", [], "identity", true],
    [
      "a service account ci-12 (? is one character)",
      "srn:sluice:acct-b:service-account/ci-12",
      [],
      "identity",
      false,
    ],
    ["a user named like the service account pattern", "srn:sluice:acct-b:user/ci-1", [], "identity", false],
    ["the same name in another account", "srn:sluice:acct-x:user/alice", [], "identity", false],
    [
      "a user of the role's account matching ops-* needs nothing more",
      "srn:sluice:acct-a:user/ops-jane",
      [],
      "none",
      true,
    ],
    ["a user of the role's account not named", "srn:sluice:acct-a:user/jane", [], "identity", false],
    [
      "any principal of a trusted account root, with its own policies",
      "srn:sluice:acct-c:user/zed",
      [],
      "identity",
      true,
    ],
    ["an account root's principal without its own policies", "srn:sluice:acct-c:user/zed", [], "none", false],
    [
      "an intern (Deny, wildcard) even in a trusted group",
      "srn:sluice:acct-b:user/intern7",
      ["srn:sluice:acct-b:group/release-prod"],
      "identity",
      false,
    ],
    [
      "a contractor (Deny by group) even when named",
      "srn:sluice:acct-b:user/alice",
      ["srn:sluice:acct-b:group/contractors"],
      "identity",
      false,
    ],
    [
      "a user named like the group pattern is not its member",
      "srn:sluice:acct-b:user/release-x",
      [],
      "identity",
      false,
    ],
  ];
  const mayAssumeA = compilePolicies([
    {
      name: "assume",
      document: {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["sluice:AssumeRole"], Resource: ["srn:sluice:acct-a:role/*"] },
        ],
      },
    },
  ]);
  it.each(rows)("%s", (_name, srn, groups, policies, allowed) => {
    const decision = decideAssumeRole(policy, ROLE, {
      srn,
      groups,
      policies: policies === "identity" ? mayAssumeA : none,
    });
    expect(decision.allowed).toBe(allowed);
  });

  it.each([
    ["srn:sluice:*:user/alice", "names no valid account"],
    ["srn:sluice:acct-b:role/deployer", "A principal is"],
    ["srn:sluice:acct-b:user/a/b", "A principal is"],
    ["srn:sluice:acct-b:*", "A principal is"],
  ])("refuses the principal %s", (principal, message) => {
    const result = validateTrustPolicy({
      Statement: [{ Effect: "Allow", Action: "sluice:AssumeRole", Principal: { Sluice: principal } }],
    });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).toContain(message);
  });
});
