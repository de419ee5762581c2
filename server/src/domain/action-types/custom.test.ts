import { MAX_CUSTOM_ACTION_TYPES, parseCustomActionType } from "./custom";

const input = {
  category: "Deploy",
  provider: "Helm_3",
  version: "1",
  settings: { entityUrlTemplate: "https://helm.example/{Config:Chart}" },
  configurationProperties: [
    {
      name: "Chart",
      required: true,
      key: true,
      secret: false,
      queryable: true,
      description: "The chart.",
      type: "String",
    },
    { name: "Token", required: false, key: false, secret: true },
  ],
  inputArtifactDetails: { minimumCount: 1, maximumCount: 5 },
  outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
};

function issuesOf(value: unknown) {
  const result = parseCustomActionType(value);
  if (result.ok) throw new Error("expected issues");
  return result.issues;
}

describe("parseCustomActionType", () => {
  it("builds an owner Custom definition with defaults", () => {
    expect(parseCustomActionType(input)).toEqual({
      ok: true,
      definition: {
        id: { category: "Deploy", owner: "Custom", provider: "Helm_3", version: "1" },
        description: null,
        configurationProperties: [
          {
            name: "Chart",
            required: true,
            secret: false,
            queryable: true,
            description: "The chart.",
            type: "String",
          },
          {
            name: "Token",
            required: false,
            secret: true,
            queryable: false,
            description: null,
            type: "String",
          },
        ],
        inputArtifactDetails: { minimumCount: 1, maximumCount: 5 },
        outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
        settings: {
          entityUrlTemplate: "https://helm.example/{Config:Chart}",
          executionUrlTemplate: null,
          revisionUrlTemplate: null,
          thirdPartyConfigurationUrl: null,
        },
      },
    });
  });

  it("reports shape problems: unknown keys, a bad category, missing bounds", () => {
    expect(
      issuesOf({
        category: "Lint",
        provider: "X",
        version: "1",
        owner: "Custom",
        inputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
      }),
    ).toEqual([
      {
        path: "category",
        message: 'category must be one of Source, Build, Test, Deploy, Approval, Invoke; got "Lint".',
      },
      {
        path: "owner",
        message: expect.stringMatching(
          /^Unknown key "owner"\. The allowed keys here are category, provider, version/,
        ),
      },
      { path: "outputArtifactDetails", message: "outputArtifactDetails is required." },
    ]);
  });

  it("reports provider and version patterns", () => {
    expect(issuesOf({ ...input, provider: "helm chart", version: "1234567890" })).toEqual([
      {
        path: "provider",
        message: expect.stringMatching(
          /^Provider "helm chart" contains characters that are not allowed: use 1 to 35/,
        ),
      },
      {
        path: "version",
        message: expect.stringMatching(/^Version "1234567890" is 10 characters long: use 1 to 9/),
      },
    ]);
  });

  it("reports artifact bounds outside 0–5 (over 5 is the quota) and min above max", () => {
    expect(
      issuesOf({
        ...input,
        inputArtifactDetails: { minimumCount: -1, maximumCount: 6 },
        outputArtifactDetails: { minimumCount: 2, maximumCount: 1 },
      }),
    ).toEqual([
      {
        path: "inputArtifactDetails.minimumCount",
        message: "inputArtifactDetails.minimumCount must be an integer from 0 to 5; got -1.",
      },
      {
        path: "inputArtifactDetails.maximumCount",
        message: "inputArtifactDetails.maximumCount must be an integer from 0 to 5; got 6.",
        limit: true,
      },
      {
        path: "outputArtifactDetails",
        message: "outputArtifactDetails.minimumCount (2) is more than maximumCount (1).",
      },
    ]);
  });

  it("reports more than 10 properties as a limit, and repeated names", () => {
    const properties = Array.from({ length: 11 }, (_, i) => ({
      name: i === 10 ? "P0" : `P${i}`,
      required: false,
      secret: false,
    }));
    expect(issuesOf({ ...input, configurationProperties: properties })).toEqual([
      {
        path: "configurationProperties",
        message: "A custom action type has at most 10 configuration properties; this one declares 11.",
        limit: true,
      },
      {
        path: "configurationProperties[10].name",
        message:
          'Property name "P0" is already declared by configurationProperties[0]; names must be unique.',
      },
    ]);
  });

  it("reports CodePipeline's queryable rules and long names", () => {
    const properties = [
      { name: "A", required: true, secret: false, queryable: true },
      { name: "B", required: false, secret: true, queryable: true },
      { name: "x".repeat(51), required: false, secret: false },
    ];
    expect(issuesOf({ ...input, configurationProperties: properties })).toEqual([
      {
        path: "configurationProperties[1].queryable",
        message: "Only one property can be queryable; configurationProperties[0] already is.",
      },
      {
        path: "configurationProperties[1].queryable",
        message: 'Queryable property "B" must be required and not secret.',
      },
      {
        path: "configurationProperties[2].name",
        message: expect.stringMatching(/must be 1 to 50 characters long/),
      },
    ]);
  });

  it("reports input artifacts on a Source type", () => {
    expect(issuesOf({ ...input, category: "Source", configurationProperties: [] })).toEqual([
      {
        path: "inputArtifactDetails.maximumCount",
        message: expect.stringMatching(/^A Source action type takes no input artifacts/),
      },
    ]);
  });

  it("exports the quota of custom types", () => {
    expect(MAX_CUSTOM_ACTION_TYPES).toBe(50);
  });
});
