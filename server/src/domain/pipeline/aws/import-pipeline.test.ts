/**
 * Pipeline-, wrapper-, trigger- and stage-level rules of fromAwsDocument, and the issues a
 * structurally broken AWS document gets.
 */
import { builtinRegistry } from "../../action-types/builtins";
import { fromAwsDocument } from "./import";
import { awsDeclaration, ROLE_ARN } from "./__tests__/aws-builders";
import { importValid, warningAt, warningPaths } from "./__tests__/harness";

const metadata = {
  pipelineArn: "arn:aws:codepipeline:us-east-1:111122223333:app",
  created: "2024-01-02T03:04:05.000000+00:00",
  updated: "2024-02-03T04:05:06.000000+00:00",
};

describe("pipeline fields", () => {
  it("roleArn, artifactStore(s), a version other than 1, a pipelineType other than V2, metadata and tags are kept in awsMetadata, each with a warning", () => {
    const artifactStores = {
      "us-east-1": { type: "S3", location: "a" },
      "eu-west-1": { type: "S3", location: "b", encryptionKey: { id: "k", type: "KMS" } },
    };
    const declaration = awsDeclaration({ fields: { version: 4, pipelineType: "V1", artifactStores } });
    delete declaration["artifactStore"];
    const tags = [{ key: "team", value: "payments" }];
    const { document, warnings } = importValid({ pipeline: declaration, metadata, tags });
    expect(document.awsMetadata).toEqual({
      roleArn: ROLE_ARN,
      artifactStores,
      version: 4,
      pipelineType: "V1",
      metadata,
      tags,
    });
    expect(warningPaths(warnings).filter((path) => !path.startsWith("stages"))).toEqual([
      "roleArn",
      "version",
      "pipelineType",
      "artifactStores",
      "metadata",
      "tags",
    ]);
  });

  it("pipelineType V2 and version 1 are not kept (the export writes them by default), and say so", () => {
    const { document, warnings } = importValid(awsDeclaration());
    expect(document.awsMetadata).toEqual({
      roleArn: ROLE_ARN,
      artifactStore: { type: "S3", location: "codepipeline-us-east-1-111122223333" },
    });
    expect(warningAt(warnings, "pipelineType")).toMatch(/not kept.*writes "V2" by default/);
    expect(warningAt(warnings, "version")).toMatch(/not kept.*writes 1 by default/);
  });

  it("name, executionMode and variables map directly, without warnings", () => {
    const variables = [{ name: "Env", defaultValue: "staging", description: "target" }, { name: "Tag" }];
    const { document, warnings } = importValid(
      awsDeclaration({ fields: { executionMode: "PARALLEL", variables } }),
    );
    expect(document).toMatchObject({
      name: "app",
      executionMode: "PARALLEL",
      variables: [
        { name: "Env", defaultValue: "staging", description: "target" },
        { name: "Tag", defaultValue: null, description: null },
      ],
    });
    expect(
      warningPaths(warnings).filter((path) => ["name", "executionMode", "variables"].includes(path)),
    ).toEqual([]);
  });

  it("an unknown pipeline field is kept; wrapper-only fields inside the declaration and unknown wrapper fields are not, and say so", () => {
    const { document, warnings } = importValid({
      pipeline: awsDeclaration({ fields: { futureField: { a: 1 }, tags: [] } }),
      extra: true,
    });
    expect(document.awsMetadata).toMatchObject({ futureField: { a: 1 } });
    expect(document.awsMetadata).not.toHaveProperty("tags");
    expect(warningAt(warnings, "futureField")).toMatch(/kept in the pipeline's awsMetadata/);
    expect(warningAt(warnings, "tags")).toMatch(/not kept/);
    expect(warningAt(warnings, "extra")).toMatch(/not kept/);
  });
});

describe("triggers", () => {
  const awsTrigger = {
    providerType: "CodeStarSourceConnection",
    gitConfiguration: {
      sourceActionName: "Checkout",
      push: [
        { branches: { includes: ["main"] }, filePaths: { excludes: ["docs/**"] } },
        { tags: { includes: ["v*"], excludes: ["v0*"] } },
      ],
      pullRequest: [{ events: ["OPEN"], branches: { includes: ["main"] } }],
    },
  };

  it("CodeStarSourceConnection becomes Git, push filters are kept, pull request filters go to awsMetadata.triggers", () => {
    const { document, warnings } = importValid(awsDeclaration({ fields: { triggers: [awsTrigger] } }));
    expect(document.triggers).toEqual([
      {
        providerType: "Git",
        gitConfiguration: {
          sourceActionName: "Checkout",
          push: [
            {
              branches: { includes: ["main"], excludes: [] },
              filePaths: { includes: [], excludes: ["docs/**"] },
              tags: null,
            },
            { branches: null, filePaths: null, tags: { includes: ["v*"], excludes: ["v0*"] } },
          ],
        },
      },
    ]);
    expect(document.awsMetadata?.["triggers"]).toEqual([awsTrigger]);
    expect(warningPaths(warnings).filter((path) => path.startsWith("triggers"))).toEqual([
      "triggers[0].providerType",
      "triggers[0].gitConfiguration.pullRequest",
    ]);
    expect(warningAt(warnings, "triggers[0].gitConfiguration.pullRequest")).toMatch(
      /does not support pull request triggers yet/,
    );
  });

  it("a trigger Sluice can express whole is not kept in awsMetadata", () => {
    const git = {
      providerType: "Git",
      gitConfiguration: { sourceActionName: "Checkout", push: [{ branches: { includes: ["main"] } }] },
    };
    const { document, warnings } = importValid(awsDeclaration({ fields: { triggers: [git] } }));
    expect(document.awsMetadata).not.toHaveProperty("triggers");
    expect(warningPaths(warnings).filter((path) => path.startsWith("triggers"))).toEqual([]);
  });
});

describe("stage fields", () => {
  it("blockers, onFailure, onSuccess, beforeEntry and unknown fields are kept in the stage's awsMetadata, each with a warning", () => {
    const conditions = {
      onFailure: { result: "ROLLBACK" },
      onSuccess: { conditions: [{ result: "FAIL", rules: [] }] },
      beforeEntry: { conditions: [{ result: "FAIL", rules: [] }] },
      blockers: [{ name: "Freeze", type: "Schedule" }],
      color: "blue",
    };
    const declaration = awsDeclaration();
    const stages = declaration["stages"] as Record<string, unknown>[];
    Object.assign(stages[1]!, conditions);
    const { document, warnings } = importValid(declaration);
    expect(document.stages[1]!.awsMetadata).toEqual(conditions);
    expect(document.stages[0]!.awsMetadata).toBeNull();
    expect(warningPaths(warnings).filter((path) => /^stages\[1\]\.[a-zA-Z]+$/.test(path))).toEqual(
      Object.keys(conditions).map((key) => `stages[1].${key}`),
    );
    expect(warningAt(warnings, "stages[1].onFailure")).toMatch(/does not evaluate/);
  });
});

describe("the import is pure", () => {
  it("does not change its input, and its output shares nothing with it", () => {
    const input = { pipeline: awsDeclaration(), metadata };
    const before = JSON.stringify(input);
    const converted = fromAwsDocument(input, builtinRegistry);
    if (!converted.ok) throw new Error("expected the import to succeed");
    expect(JSON.stringify(input)).toBe(before);
    const awsMetadata = (converted.document as { awsMetadata: Record<string, Record<string, unknown>> })
      .awsMetadata;
    awsMetadata["metadata"]!["pipelineArn"] = "changed";
    expect(input.metadata.pipelineArn).not.toBe("changed");
  });
});

describe("a structurally broken AWS document gets issues with paths", () => {
  const action = (overrides: Record<string, unknown>) => ({
    name: "A",
    actionTypeId: { category: "Build", owner: "AWS", provider: "CodeBuild", version: "1" },
    ...overrides,
  });
  const table: [string, unknown, string[]][] = [
    ["not an object", "pipeline", [""]],
    ["an array", [], [""]],
    ["a wrapper whose pipeline is not an object", { pipeline: [] }, ["pipeline"]],
    ["no stages", { name: "app", roleArn: "r" }, ["stages"]],
    ["stages that are not a list", { name: "app", stages: {} }, ["stages"]],
    [
      "a stage that is not an object, a stage without actions",
      { name: "app", stages: [7, { name: "S" }] },
      ["stages[0]", "stages[1].actions"],
    ],
    [
      "an action that is not an object",
      { name: "app", stages: [{ name: "S", actions: [null] }] },
      ["stages[0].actions[0]"],
    ],
    [
      "an action without actionTypeId",
      { name: "app", stages: [{ name: "S", actions: [{ name: "A" }] }] },
      ["stages[0].actions[0].actionTypeId"],
    ],
    [
      "an actionTypeId with a missing, an empty and an unknown field",
      {
        name: "app",
        stages: [
          {
            name: "S",
            actions: [
              action({ actionTypeId: { category: "Build", owner: "", provider: "X", colour: "red" } }),
            ],
          },
        ],
      },
      [
        "stages[0].actions[0].actionTypeId.owner",
        "stages[0].actions[0].actionTypeId.version",
        "stages[0].actions[0].actionTypeId.colour",
      ],
    ],
    [
      "a configuration that is not an object",
      { name: "app", stages: [{ name: "S", actions: [action({ configuration: "x" })] }] },
      ["stages[0].actions[0].configuration"],
    ],
    [
      "a configuration value that is not a string",
      {
        name: "app",
        stages: [{ name: "S", actions: [action({ configuration: { Count: 3, Name: "ok" } })] }],
      },
      ["stages[0].actions[0].configuration.Count"],
    ],
    ["triggers that are not a list", { name: "app", stages: [], triggers: {} }, ["triggers"]],
    [
      "a wrapper metadata that is not an object",
      { pipeline: { name: "app", stages: [] }, metadata: "x" },
      ["metadata"],
    ],
  ];

  it.each(table)("%s", (_, json, paths) => {
    const result = fromAwsDocument(json, builtinRegistry);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues.map((issue) => issue.path)).toEqual(paths);
      for (const issue of result.issues) expect(issue.message).toMatch(/\w+.*\.$/);
    }
  });
});
