import { validatePolicy } from "./validate";

const issuesOf = (input: unknown) => {
  const result = validatePolicy(input);
  if (result.ok) throw new Error("expected the policy to be refused");
  return result.issues;
};

describe("validatePolicy", () => {
  it("normalizes strings to lists and a single statement to a list", () => {
    expect(
      validatePolicy({
        Version: "2012-10-17",
        Statement: { Sid: "Read", Effect: "Allow", Action: "sluice:Get*", Resource: "*" },
      }),
    ).toEqual({
      ok: true,
      document: {
        Version: "2012-10-17",
        Statement: [{ Sid: "Read", Effect: "Allow", Action: ["sluice:Get*"], Resource: ["*"] }],
      },
    });
  });

  it("accepts NotAction and NotResource, and a missing Version", () => {
    const result = validatePolicy({
      Statement: [
        { Effect: "Deny", NotAction: ["sluice:Get*"], NotResource: ["srn:sluice:*:pipeline/sandbox-*"] },
      ],
    });
    expect(result).toMatchObject({ ok: true, document: { Version: "2012-10-17" } });
  });

  it("reports every problem of every statement, each with its path", () => {
    expect(
      issuesOf({
        Version: "2008-10-17",
        Statement: [
          { Effect: "allow", Action: "sluice:GetPipeline", Resource: "*" },
          {
            Sid: "Two",
            Effect: "Allow",
            Action: ["sluice:GetPipeline", "sluice:GetPipelines"],
            Resource: 42,
          },
          {
            Sid: "Two",
            Effect: "Deny",
            Action: "s3:GetObject",
            NotAction: "sluice:*",
            Resource: ["pipeline/web"],
          },
          { Effect: "Allow", Resource: "*", Principal: "*" },
          { Effect: "Allow", Action: "*", Resource: "*", Condition: { Bool: { mfa: "true" } } },
          { Sid: "no spaces", Effect: "Allow", Action: [], Resource: "srn:sluice:acct1:widgets/*" },
          "Allow everything",
        ],
      }),
    ).toEqual([
      { path: "Version", message: 'Version must be "2012-10-17"; got "2008-10-17".' },
      { path: "Statement[0].Effect", message: 'Effect must be one of "Allow", "Deny"; got "allow".' },
      { path: "Statement[1].Resource", message: "Resource must be a string or a list of strings; got 42." },
      {
        path: "Statement[2].NotAction",
        message: "A statement has Action or NotAction, not both.",
      },
      {
        path: "Statement[2].Action",
        message: 'An action must be "*" or "sluice:<Name>" (wildcards * and ? allowed); got "s3:GetObject".',
      },
      {
        path: "Statement[2].Resource[0]",
        message: 'A resource must be "*" or "srn:sluice:<account>:<resource>"; got "pipeline/web".',
      },
      {
        path: "Statement[2].Sid",
        message: 'Sid "Two" is already the Sid of Statement[1]; Sids are unique within a policy.',
      },
      {
        path: "Statement[3].Principal",
        message:
          'Unknown key "Principal": a statement has Sid, Effect, Action or NotAction, Resource or NotResource.',
      },
      {
        path: "Statement[4].Condition",
        message:
          "Condition is not supported yet: remove it (a statement is never applied without its conditions).",
      },
      { path: "Statement[5].Sid", message: 'Sid has only letters and digits; got "no spaces".' },
      { path: "Statement[5].Action", message: "Action must name at least one action." },
      {
        path: "Statement[5].Resource",
        message: expect.stringMatching(
          /^Unknown resource type "widgets" in "srn:sluice:acct1:widgets\/\*"; the types are pipeline, webhook/,
        ),
      },
      { path: "Statement[6]", message: 'A statement must be an object; got "Allow everything".' },
    ]);
  });

  it("names a statement given alone by `Statement`", () => {
    expect(issuesOf({ Statement: { Effect: "Allow", Action: "sluice:GetPipline", Resource: "*" } })).toEqual([
      {
        path: "Statement.Action",
        message: '"sluice:GetPipline" matches no Sluice action (docs/policies.md lists them).',
      },
    ]);
  });

  it("a statement needs an action and a resource", () => {
    expect(issuesOf({ Statement: [{ Effect: "Allow" }] })).toEqual([
      { path: "Statement[0]", message: "A statement needs Action or NotAction." },
      { path: "Statement[0]", message: "A statement needs Resource or NotResource." },
    ]);
    expect(issuesOf({ Statement: [{ Action: "*", Resource: "*" }] })).toEqual([
      { path: "Statement[0].Effect", message: "Effect is required." },
    ]);
  });

  it.each([
    [null, "", "A policy must be a JSON object; got null."],
    [[], "", "A policy must be a JSON object; got a list."],
    [{}, "Statement", "Statement is required."],
    [{ Statement: [] }, "Statement", "Statement must hold at least one statement."],
    [
      { Statement: "Allow" },
      "Statement",
      'Statement must be a statement (an object) or a list of them; got "Allow".',
    ],
    [
      { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }], Statements: [] },
      "Statements",
      expect.stringMatching(/^Unknown key "Statements": a policy has Version, Id and Statement/),
    ],
    [
      { Statement: [{ Effect: "Allow", Action: ["*", 3], Resource: "*" }] },
      "Statement[0].Action",
      "Action must be a string or a list of strings; got a list.",
    ],
    [
      { Statement: [{ Effect: "Allow", Action: "sluice:", Resource: "*" }] },
      "Statement[0].Action",
      expect.stringMatching(/^An action must be/),
    ],
    [
      { Statement: [{ Effect: "Allow", Action: "sluice:Get-Pipeline", Resource: "*" }] },
      "Statement[0].Action",
      expect.stringMatching(/only letters and the wildcards/),
    ],
  ])("refuses %j at %s", (input, path, message) => {
    expect(issuesOf(input)).toEqual([{ path, message }]);
  });

  it("refuses a policy larger than the limit, as a limit", () => {
    const Statement = Array.from({ length: 200 }, (_, i) => ({
      Sid: `S${i}`,
      Effect: "Allow",
      Action: "sluice:GetPipeline",
      Resource: `srn:sluice:acct1:pipeline/p${i}`,
    }));
    const issues = issuesOf({ Statement });
    expect(issues).toEqual([
      {
        path: "",
        message: expect.stringMatching(
          /^A policy is at most 10,240 characters of compact JSON; this one has \d+,\d{3}\.$/,
        ),
        limit: true,
      },
    ]);
  });
});
