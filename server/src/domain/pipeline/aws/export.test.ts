/**
 * toAwsDocument: a Sluice-native pipeline in AWS form, and what happens to the AWS originals an
 * import kept once the Sluice action is edited (they are written back only while they still
 * describe the action).
 */
import type { ActionDeclaration, PipelineDocument } from "../document";
import { toAwsDocument } from "./export";
import { awsDeclaration, awsTypeId, codeBuild, codeCommitSource } from "./__tests__/aws-builders";
import { fixture, importValid } from "./__tests__/harness";

function action(
  overrides: Partial<ActionDeclaration> & Pick<ActionDeclaration, "name" | "actionTypeId">,
): ActionDeclaration {
  return {
    runOrder: 1,
    configuration: {},
    inputArtifacts: [],
    outputArtifacts: [],
    namespace: null,
    region: null,
    timeoutInMinutes: null,
    retryPolicy: null,
    awsMetadata: null,
    ...overrides,
  };
}

const nativeDocument: PipelineDocument = {
  name: "web",
  executionMode: "QUEUED",
  variables: [{ name: "Env", defaultValue: "staging", description: null }],
  schedules: [],
  triggers: [
    {
      providerType: "Git",
      gitConfiguration: {
        sourceActionName: "Checkout",
        push: [
          {
            branches: { includes: ["main"], excludes: [] },
            filePaths: null,
            tags: { includes: [], excludes: [] },
          },
        ],
      },
    },
  ],
  stages: [
    {
      name: "Source",
      onNewerRevision: null,
      awsMetadata: null,
      actions: [
        action({
          name: "Checkout",
          actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
          configuration: { Repository: "https://git.example/web.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
          namespace: "SourceVariables",
        }),
      ],
    },
    {
      name: "Build",
      onNewerRevision: null,
      awsMetadata: null,
      actions: [
        action({
          name: "Make",
          actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
          configuration: { Commands: "make" },
          inputArtifacts: [{ name: "Src" }],
          region: "linux-large",
          timeoutInMinutes: 30,
        }),
      ],
    },
  ],
  awsMetadata: null,
};

describe("a Sluice-native pipeline in AWS form", () => {
  it("has get-pipeline's metadata when the times are given: an ARN of its own, created and updated", () => {
    const times = {
      created: new Date("2025-01-02T03:04:05.000Z"),
      updated: new Date("2025-02-03T04:05:06.000Z"),
    };
    expect(toAwsDocument(nativeDocument, times).metadata).toEqual({
      pipelineArn: "arn:sluice:codepipeline:::web",
      created: "2025-01-02T03:04:05.000Z",
      updated: "2025-02-03T04:05:06.000Z",
    });
  });

  it("gets pipelineType V2, version 1, no roleArn and no metadata; actions keep their Sluice types and pools", () => {
    expect(toAwsDocument(nativeDocument)).toEqual({
      pipeline: {
        name: "web",
        version: 1,
        pipelineType: "V2",
        executionMode: "QUEUED",
        variables: [{ name: "Env", defaultValue: "staging" }],
        triggers: [
          {
            providerType: "Git",
            gitConfiguration: {
              sourceActionName: "Checkout",
              push: [{ branches: { includes: ["main"] }, tags: {} }],
            },
          },
        ],
        stages: [
          {
            name: "Source",
            actions: [
              {
                name: "Checkout",
                actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
                runOrder: 1,
                configuration: { Repository: "https://git.example/web.git", Branch: "main" },
                inputArtifacts: [],
                outputArtifacts: [{ name: "Src" }],
                namespace: "SourceVariables",
              },
            ],
          },
          {
            name: "Build",
            actions: [
              {
                name: "Make",
                actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
                runOrder: 1,
                configuration: { Commands: "make" },
                inputArtifacts: [{ name: "Src" }],
                outputArtifacts: [],
                region: "linux-large",
                timeoutInMinutes: 30,
              },
            ],
          },
        ],
      },
    });
  });

  it("leaves out empty variable and trigger lists, as get-pipeline does", () => {
    const { pipeline } = toAwsDocument({ ...nativeDocument, variables: [], triggers: [] });
    expect(pipeline).not.toHaveProperty("variables");
    expect(pipeline).not.toHaveProperty("triggers");
  });

  it("writes Sluice's onNewerRevision as a stage field only when it is set, and imports it back", () => {
    const stages = nativeDocument.stages.map((stage, i) =>
      i === 1 ? { ...stage, onNewerRevision: "SUPERSEDE_PENDING_APPROVAL" as const } : stage,
    );
    const withOption = { ...nativeDocument, stages };
    const { pipeline } = toAwsDocument(withOption);
    const exported = pipeline["stages"] as Record<string, unknown>[];
    expect(exported[0]).not.toHaveProperty("onNewerRevision");
    expect(exported[1]!["onNewerRevision"]).toBe("SUPERSEDE_PENDING_APPROVAL");
    const imported = importValid(JSON.parse(JSON.stringify({ pipeline })));
    expect(imported.document).toEqual(withOption);
    expect(imported.warnings.map((warning) => warning.path)).not.toContain("stages[1].onNewerRevision");
  });

  it("shares nothing with the document", () => {
    const { document } = importValid(fixture("v2-connection-triggers-conditions"));
    const before = JSON.stringify(document);
    const exported = toAwsDocument(document);
    const stages = exported.pipeline["stages"] as {
      actions: { configuration: Record<string, string> }[];
      onFailure?: { result: string };
    }[];
    stages[0]!.actions[0]!.configuration["BranchName"] = "changed";
    stages[2]!.onFailure!.result = "changed";
    exported.metadata!["pipelineArn"] = "changed";
    (exported.pipeline["triggers"] as { providerType: string }[])[0]!.providerType = "changed";
    expect(JSON.stringify(document)).toBe(before);
  });
});

describe("AWS originals kept by the import", () => {
  function importedBuildStage(actions: Record<string, unknown>[]) {
    return importValid(awsDeclaration({ actions })).document;
  }

  function exportedAction(document: PipelineDocument, stage: number): Record<string, unknown> {
    const stages = toAwsDocument(document).pipeline["stages"] as { actions: Record<string, unknown>[] }[];
    return stages[stage]!.actions[0]!;
  }

  function editAction(
    document: PipelineDocument,
    stage: number,
    edit: (action: ActionDeclaration) => ActionDeclaration,
  ): PipelineDocument {
    return {
      ...document,
      stages: document.stages.map((s, i) =>
        i === stage ? { ...s, actions: s.actions.map((a, j) => (j === 0 ? edit(a) : a)) } : s,
      ),
    };
  }

  it("an unedited converted source is written back as the AWS original", () => {
    const source = codeCommitSource({ region: "us-east-1", roleArn: "arn:aws:iam::1:role/src" });
    const document = importValid(awsDeclaration({ source })).document;
    expect(exportedAction(document, 0)).toEqual(source);
  });

  it("a converted source edited in Sluice is written as it is now, with its AWS-only fields", () => {
    const document = importValid(
      awsDeclaration({ source: codeCommitSource({ roleArn: "arn:aws:iam::1:role/src" }) }),
    ).document;
    const edited = editAction(document, 0, (a) => ({
      ...a,
      configuration: { ...a.configuration, Branch: "develop" },
    }));
    expect(exportedAction(edited, 0)).toMatchObject({
      actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
      configuration: { Repository: "app", Branch: "develop" },
      roleArn: "arn:aws:iam::1:role/src",
    });
  });

  it("a Custom action whose configuration lost keys beyond the 10 properties gets them all back", () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`Key${i}`, `v${i}`]));
    const document = importedBuildStage([codeBuild({ configuration: many })]);
    expect(Object.keys(document.stages[1]!.actions[0]!.configuration)).toHaveLength(10);
    expect(exportedAction(document, 1)).toMatchObject({
      actionTypeId: awsTypeId("Build", "CodeBuild"),
      configuration: many,
    });
  });

  it("a Custom action whose configuration value changed is written as the Custom type with the new configuration", () => {
    const document = importedBuildStage([codeBuild()]);
    const edited = editAction(document, 1, (a) => ({ ...a, configuration: { ProjectName: "renamed" } }));
    expect(exportedAction(edited, 1)).toMatchObject({
      actionTypeId: { category: "Build", owner: "Custom", provider: "CodeBuild", version: "1" },
      configuration: { ProjectName: "renamed" },
    });
  });

  it("original artifact lists are written while they name the same artifacts", () => {
    const outputArtifacts = [{ name: "Report", files: ["reports/**"] }];
    const document = importedBuildStage([codeBuild({ outputArtifacts })]);
    expect(exportedAction(document, 1)["outputArtifacts"]).toEqual(outputArtifacts);
    const renamed = editAction(document, 1, (a) => ({ ...a, outputArtifacts: [{ name: "Renamed" }] }));
    expect(exportedAction(renamed, 1)["outputArtifacts"]).toEqual([{ name: "Renamed" }]);
  });

  it("an agent pool set after the import is written as region, in place of the AWS region", () => {
    const document = importedBuildStage([codeBuild({ region: "eu-west-1" })]);
    expect(exportedAction(document, 1)["region"]).toBe("eu-west-1");
    const pooled = editAction(document, 1, (a) => ({ ...a, region: "gpu" }));
    expect(exportedAction(pooled, 1)["region"]).toBe("gpu");
  });

  it("an edited trigger is written in Sluice's form; the unedited ones keep their AWS original", () => {
    const trigger = (source: string) => ({
      providerType: "CodeStarSourceConnection",
      gitConfiguration: {
        sourceActionName: source,
        push: [{ branches: { includes: ["main"] } }],
        pullRequest: [{ events: ["OPEN"] }],
      },
    });
    const declaration = awsDeclaration({ fields: { triggers: [trigger("Checkout"), trigger("Other")] } });
    const stages = declaration["stages"] as { actions: Record<string, unknown>[] }[];
    stages[0]!.actions.push(codeCommitSource({ name: "Other", outputArtifacts: [{ name: "Other" }] }));
    const document = importValid(declaration).document;
    const edited: PipelineDocument = {
      ...document,
      triggers: document.triggers.map((t, i) =>
        i === 1 ? { ...t, gitConfiguration: { ...t.gitConfiguration, push: [] } } : t,
      ),
    };
    expect(toAwsDocument(edited).pipeline["triggers"]).toEqual([
      trigger("Checkout"),
      { providerType: "Git", gitConfiguration: { sourceActionName: "Other", push: [] } },
    ]);
  });
});
