/**
 * The action mapping rules of fromAwsDocument: each rule's expected Sluice action, what it keeps
 * in awsMetadata, and the paths it warns at.
 */
import type { ActionTypeDefinition } from "../../action-types/action-type";
import { createRegistry } from "../../action-types/builtins";
import type { ActionDeclaration } from "../document";
import { validatePipeline } from "../validation/validate";
import { fromAwsDocument } from "./import";
import { awsDeclaration, awsTypeId, codeBuild, codeCommitSource } from "./__tests__/aws-builders";
import { importValid, warningAt, warningPaths, type Imported } from "./__tests__/harness";

const SOURCE = "stages[0].actions[0]";
const SECOND = "stages[1].actions[0]";

function importSource(source: Record<string, unknown>): { action: ActionDeclaration; imported: Imported } {
  const imported = importValid(awsDeclaration({ source }));
  return { action: imported.document.stages[0]!.actions[0]!, imported };
}

function importSecondStage(actions: Record<string, unknown>[], custom: ActionTypeDefinition[] = []) {
  const imported = importValid(awsDeclaration({ actions }), custom);
  return { actions: imported.document.stages[1]!.actions, imported };
}

function actionWarnings(imported: Imported, path: string): string[] {
  return warningPaths(imported.warnings).filter((at) => at.startsWith(path));
}

const sluiceGit = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };

describe("Git-like sources become Source/Sluice/Git@1", () => {
  it("CodeCommit: Repository is the repository name, with a warning to set a clone URL; PollForSourceChanges becomes DetectChanges", () => {
    const configuration = {
      RepositoryName: "orders",
      BranchName: "main",
      PollForSourceChanges: "false",
      OutputArtifactFormat: "CODE_ZIP",
    };
    const { action, imported } = importSource(codeCommitSource({ configuration }));
    expect(action.actionTypeId).toEqual(sluiceGit);
    expect(action.configuration).toEqual({ Repository: "orders", Branch: "main", DetectChanges: "false" });
    expect(action.awsMetadata).toEqual({ actionTypeId: awsTypeId("Source", "CodeCommit"), configuration });
    expect(actionWarnings(imported, SOURCE)).toEqual([
      `${SOURCE}.actionTypeId`,
      `${SOURCE}.configuration.RepositoryName`,
      `${SOURCE}.configuration.BranchName`,
      `${SOURCE}.configuration.PollForSourceChanges`,
      `${SOURCE}.configuration.OutputArtifactFormat`,
    ]);
    expect(warningAt(imported.warnings, `${SOURCE}.configuration.RepositoryName`)).toMatch(/clone URL/);
  });

  it("PollForSourceChanges true becomes DetectChanges true", () => {
    const { action } = importSource(
      codeCommitSource({
        configuration: { RepositoryName: "a", BranchName: "b", PollForSourceChanges: "true" },
      }),
    );
    expect(action.configuration["DetectChanges"]).toBe("true");
  });

  it("GitHub (ThirdParty, v1): Owner and Repo become the GitHub clone URL; OAuthToken stays in awsMetadata only", () => {
    const configuration = {
      Owner: "acme",
      Repo: "docs",
      Branch: "trunk",
      OAuthToken: "****",
      PollForSourceChanges: "false",
    };
    const { action, imported } = importSource(
      codeCommitSource({ actionTypeId: awsTypeId("Source", "GitHub", "ThirdParty"), configuration }),
    );
    expect(action.configuration).toEqual({
      Repository: "https://github.com/acme/docs.git",
      Branch: "trunk",
      DetectChanges: "false",
    });
    expect(action.awsMetadata).toEqual({
      actionTypeId: awsTypeId("Source", "GitHub", "ThirdParty"),
      configuration,
    });
    expect(actionWarnings(imported, SOURCE)).toEqual([
      `${SOURCE}.actionTypeId`,
      `${SOURCE}.configuration.Owner`,
      `${SOURCE}.configuration.OAuthToken`,
      `${SOURCE}.configuration.PollForSourceChanges`,
    ]);
  });

  it("CodeStarSourceConnection: FullRepositoryId becomes a GitHub URL (host assumed), DetectChanges kept, ConnectionArn kept in awsMetadata", () => {
    const configuration = {
      ConnectionArn: "arn:aws:codeconnections:eu-west-1:1:connection/abc",
      FullRepositoryId: "acme/web",
      BranchName: "main",
      DetectChanges: "true",
    };
    const { action, imported } = importSource(
      codeCommitSource({ actionTypeId: awsTypeId("Source", "CodeStarSourceConnection"), configuration }),
    );
    expect(action.configuration).toEqual({
      Repository: "https://github.com/acme/web.git",
      Branch: "main",
      DetectChanges: "true",
    });
    expect(action.awsMetadata?.["configuration"]).toEqual(configuration);
    expect(warningAt(imported.warnings, `${SOURCE}.configuration.FullRepositoryId`)).toMatch(
      /assumed to be GitHub.*ConnectionArn is kept/,
    );
    expect(actionWarnings(imported, SOURCE)).toEqual([
      `${SOURCE}.actionTypeId`,
      `${SOURCE}.configuration.FullRepositoryId`,
      `${SOURCE}.configuration.BranchName`,
      `${SOURCE}.configuration.ConnectionArn`,
    ]);
  });

  it("Bitbucket: FullRepositoryId becomes the Bitbucket clone URL", () => {
    const { action } = importSource(
      codeCommitSource({
        actionTypeId: awsTypeId("Source", "Bitbucket"),
        configuration: { FullRepositoryId: "acme/api", BranchName: "dev" },
      }),
    );
    expect(action.configuration).toEqual({ Repository: "https://bitbucket.org/acme/api.git", Branch: "dev" });
  });

  it("a source without the keys Repository comes from warns, and validation then asks for Repository", () => {
    const converted = fromAwsDocument(
      awsDeclaration({ source: codeCommitSource({ configuration: { BranchName: "main" } }) }),
      createRegistry([]),
    );
    if (!converted.ok) throw new Error("expected the import to succeed");
    expect(converted.warnings.find((w) => w.path === `${SOURCE}.configuration`)?.message).toMatch(
      /lacks RepositoryName/,
    );
    const validated = validatePipeline(converted.document, createRegistry(converted.customTypes));
    expect(validated.ok ? [] : validated.issues.map((issue) => issue.path)).toContain(
      `${SOURCE}.configuration.Repository`,
    );
  });

  it("a source provider of another version is not a Git source: it becomes a Custom type", () => {
    const { action } = importSource(
      codeCommitSource({ actionTypeId: awsTypeId("Source", "CodeCommit", "AWS", "2") }),
    );
    expect(action.actionTypeId).toEqual({
      category: "Source",
      owner: "Custom",
      provider: "CodeCommit",
      version: "2",
    });
  });
});

describe("Approval/AWS/Manual@1 becomes Approval/Sluice/Manual@1", () => {
  it("keeps CustomData and ExternalEntityLink; NotificationArn stays in awsMetadata only", () => {
    const configuration = {
      CustomData: "Look first",
      ExternalEntityLink: "https://example.com",
      NotificationArn: "arn:aws:sns:us-east-1:1:t",
    };
    const approval = {
      name: "Approve",
      actionTypeId: awsTypeId("Approval", "Manual"),
      runOrder: 1,
      configuration,
      inputArtifacts: [],
      outputArtifacts: [],
    };
    const { actions, imported } = importSecondStage([approval]);
    expect(actions[0]!.actionTypeId).toEqual({
      category: "Approval",
      owner: "Sluice",
      provider: "Manual",
      version: "1",
    });
    expect(actions[0]!.configuration).toEqual({
      CustomData: "Look first",
      ExternalEntityLink: "https://example.com",
    });
    expect(actions[0]!.awsMetadata).toEqual({ actionTypeId: awsTypeId("Approval", "Manual"), configuration });
    expect(actionWarnings(imported, SECOND)).toEqual([
      `${SECOND}.actionTypeId`,
      `${SECOND}.configuration.NotificationArn`,
    ]);
  });

  it("an approval without configuration keeps no configuration in awsMetadata", () => {
    const approval = {
      name: "Approve",
      actionTypeId: awsTypeId("Approval", "Manual"),
      runOrder: 1,
      inputArtifacts: [],
      outputArtifacts: [],
    };
    const { actions } = importSecondStage([approval]);
    expect(actions[0]!.configuration).toEqual({});
    expect(actions[0]!.awsMetadata).toEqual({ actionTypeId: awsTypeId("Approval", "Manual") });
  });
});

describe("every other AWS or ThirdParty provider becomes a Custom type", () => {
  const deployS3 = (name: string, configuration: Record<string, string>) => ({
    name,
    actionTypeId: awsTypeId("Deploy", "S3"),
    runOrder: 1,
    configuration,
    inputArtifacts: [{ name: "Src" }],
    outputArtifacts: [],
  });

  it.each([
    ["Build/AWS/CodeBuild@1", awsTypeId("Build", "CodeBuild")],
    ["Deploy/AWS/CloudFormation@1", awsTypeId("Deploy", "CloudFormation")],
    ["Deploy/AWS/S3@1", awsTypeId("Deploy", "S3")],
    ["Invoke/AWS/Lambda@1", awsTypeId("Invoke", "Lambda")],
    ["Test/ThirdParty/BlazeMeter@1", awsTypeId("Test", "BlazeMeter", "ThirdParty")],
  ])("%s keeps category, provider, version and configuration", (_, actionTypeId) => {
    const configuration = { Key: "value", Other: "#{codepipeline.PipelineExecutionId}" };
    const { actions, imported } = importSecondStage([codeBuild({ actionTypeId, configuration })]);
    expect(actions[0]!.actionTypeId).toEqual({ ...actionTypeId, owner: "Custom" });
    expect(actions[0]!.configuration).toEqual(configuration);
    expect(actions[0]!.awsMetadata).toEqual({ actionTypeId, configuration });
    expect(imported.customTypes.map((type) => type.id)).toEqual([{ ...actionTypeId, owner: "Custom" }]);
    // The conversion and the type's creation, both on the actionTypeId.
    expect(actionWarnings(imported, SECOND)).toEqual([`${SECOND}.actionTypeId`, `${SECOND}.actionTypeId`]);
  });

  it("derives the created type from the configuration keys of all its actions, in the order first seen", () => {
    const { imported } = importSecondStage([
      deployS3("Site", { BucketName: "site", Extract: "true" }),
      deployS3("Assets", { BucketName: "assets", CannedACL: "public-read", Extract: "false" }),
    ]);
    expect(imported.customTypes).toEqual([
      {
        id: { category: "Deploy", owner: "Custom", provider: "S3", version: "1" },
        description: "Imported from AWS CodePipeline provider S3",
        configurationProperties: ["BucketName", "Extract", "CannedACL"].map((name) => ({
          name,
          required: false,
          secret: false,
          queryable: false,
          description: null,
          type: "String",
        })),
        inputArtifactDetails: { minimumCount: 0, maximumCount: 5 },
        outputArtifactDetails: { minimumCount: 0, maximumCount: 5 },
        settings: {
          entityUrlTemplate: null,
          executionUrlTemplate: null,
          revisionUrlTemplate: null,
          thirdPartyConfigurationUrl: null,
        },
      },
    ]);
    // The creation is announced once, on the first action that needs the type.
    expect(imported.warnings.filter((w) => /is not registered/.test(w.message)).map((w) => w.path)).toEqual([
      `${SECOND}.actionTypeId`,
    ]);
  });

  it("keys beyond the 10 properties a type may declare leave the configuration, stay in awsMetadata, and warn", () => {
    const many = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`Key${String(i).padStart(2, "0")}`, `v${i}`]),
    );
    const { actions, imported } = importSecondStage([deployS3("Site", many)]);
    expect(imported.customTypes[0]!.configurationProperties.map((p) => p.name)).toEqual(
      Object.keys(many).slice(0, 10),
    );
    expect(Object.keys(actions[0]!.configuration)).toEqual(Object.keys(many).slice(0, 10));
    expect(actions[0]!.awsMetadata?.["configuration"]).toEqual(many);
    expect(actionWarnings(imported, `${SECOND}.configuration`)).toEqual([
      `${SECOND}.configuration.Key10`,
      `${SECOND}.configuration.Key11`,
    ]);
  });

  it("a type the registry already has is used as it is: no new type, the configuration kept whole", () => {
    const registered = importSecondStage([deployS3("Site", { BucketName: "b" })]).imported.customTypes;
    const { actions, imported } = importSecondStage(
      [deployS3("Site", { BucketName: "b", Extract: "true" })],
      registered,
    );
    expect(imported.customTypes).toEqual([]);
    expect(actions[0]!.configuration).toEqual({ BucketName: "b", Extract: "true" });
    expect(imported.warnings.some((w) => /is not registered/.test(w.message))).toBe(false);
  });

  it("AWS's Compute category (the Commands action) becomes Build", () => {
    const commands = {
      name: "Lint",
      actionTypeId: awsTypeId("Compute", "Commands"),
      runOrder: 1,
      commands: ["npm ci"],
      inputArtifacts: [{ name: "Src" }],
      outputArtifacts: [],
    };
    const { actions, imported } = importSecondStage([commands]);
    expect(actions[0]!.actionTypeId).toEqual({
      category: "Build",
      owner: "Custom",
      provider: "Commands",
      version: "1",
    });
    expect(actions[0]!.awsMetadata).toEqual({
      actionTypeId: awsTypeId("Compute", "Commands"),
      commands: ["npm ci"],
    });
    expect(warningAt(imported.warnings, `${SECOND}.commands`)).toMatch(/kept in awsMetadata/);
  });

  it("an action already owned by Custom keeps its type; the registry lacking it makes the import create it", () => {
    const custom = codeBuild({
      actionTypeId: awsTypeId("Deploy", "Helm", "Custom", "2"),
      configuration: { Chart: "web" },
    });
    const { actions, imported } = importSecondStage([custom]);
    expect(actions[0]!.actionTypeId).toEqual(awsTypeId("Deploy", "Helm", "Custom", "2"));
    expect(actions[0]!.awsMetadata).toBeNull();
    expect(imported.customTypes.map((type) => type.id)).toEqual([awsTypeId("Deploy", "Helm", "Custom", "2")]);
    expect(actionWarnings(imported, SECOND)).toEqual([`${SECOND}.actionTypeId`]);
  });
});

describe("action fields", () => {
  it("namespace, runOrder, artifacts and timeoutInMinutes map directly, without warnings", () => {
    const build = codeBuild({
      name: "Compile",
      runOrder: 3,
      namespace: "BuildVars",
      timeoutInMinutes: 90,
      outputArtifacts: [{ name: "Out" }],
    });
    const { actions, imported } = importSecondStage([build]);
    expect(actions[0]).toMatchObject({
      name: "Compile",
      runOrder: 3,
      namespace: "BuildVars",
      timeoutInMinutes: 90,
      inputArtifacts: [{ name: "Src" }],
      outputArtifacts: [{ name: "Out" }],
    });
    expect(actionWarnings(imported, SECOND).filter((path) => path !== `${SECOND}.actionTypeId`)).toEqual([]);
  });

  it("roleArn, region and the Commands fields are kept in awsMetadata, each with a warning; region is not a pool", () => {
    const fields = {
      roleArn: "arn:aws:iam::1:role/deploy",
      region: "eu-west-1",
      outputVariables: ["VERSION"],
      environmentVariables: [{ name: "STAGE", value: "prod", type: "PLAINTEXT" }],
    };
    const { actions, imported } = importSecondStage([codeBuild(fields)]);
    expect(actions[0]!.region).toBeNull();
    expect(actions[0]!.awsMetadata).toMatchObject(fields);
    for (const key of Object.keys(fields))
      expect(warningPaths(imported.warnings)).toContain(`${SECOND}.${key}`);
    expect(warningAt(imported.warnings, `${SECOND}.region`)).toMatch(/not a Sluice agent pool/);
  });

  it("artifacts with more than a name (output files) are kept whole in awsMetadata", () => {
    const outputArtifacts = [{ name: "Report", files: ["reports/**/*"] }];
    const { actions, imported } = importSecondStage([codeBuild({ outputArtifacts })]);
    expect(actions[0]!.outputArtifacts).toEqual([{ name: "Report" }]);
    expect(actions[0]!.awsMetadata?.["outputArtifacts"]).toEqual(outputArtifacts);
    expect(warningPaths(imported.warnings)).toContain(`${SECOND}.outputArtifacts[0].files`);
  });

  it("region of a Sluice-owned action is its agent pool", () => {
    const shell = {
      name: "Test",
      actionTypeId: { category: "Test", owner: "Sluice", provider: "Shell", version: "1" },
      configuration: { Commands: "make test" },
      inputArtifacts: [{ name: "Src" }],
      region: "gpu-pool",
    };
    const { actions, imported } = importSecondStage([shell]);
    expect(actions[0]).toMatchObject({ region: "gpu-pool", awsMetadata: null });
    expect(actionWarnings(imported, SECOND)).toEqual([]);
  });

  it("region of a Custom action is its pool in a Sluice export (no roleArn), an AWS region in a CodePipeline document", () => {
    const helm = codeBuild({ actionTypeId: awsTypeId("Deploy", "Helm", "Custom"), region: "eu-pool" });
    const withoutRole = awsDeclaration({ actions: [helm] });
    delete withoutRole["roleArn"];
    const exported = importValid(withoutRole).document.stages[1]!.actions[0]!;
    expect(exported).toMatchObject({ region: "eu-pool", awsMetadata: null });
    const fromAws = importValid(awsDeclaration({ actions: [helm] })).document.stages[1]!.actions[0]!;
    expect(fromAws).toMatchObject({ region: null, awsMetadata: { region: "eu-pool" } });
  });
});
