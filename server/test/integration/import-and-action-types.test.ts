import { DOCUMENT, simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const IMPORT = `mutation ($document: JSON!) {
  importPipeline(document: $document) { pipeline { name version stages { name actions { name actionTypeId { category owner provider version } } } } warnings { path message } } }`;
const ACTION_TYPES = `query ($category: String) { actionTypes(category: $category) {
  id { category owner provider version } description configurationProperties { name required secret }
  inputArtifactDetails { minimumCount maximumCount } outputArtifactDetails { minimumCount maximumCount } } }`;

/** What `aws codepipeline get-pipeline --name shop` prints, trimmed to three stages. */
const awsGetPipeline = {
  pipeline: {
    name: "shop",
    roleArn: "arn:aws:iam::123456789012:role/service-role/AWSCodePipelineServiceRole-shop",
    artifactStore: { type: "S3", location: "codepipeline-eu-west-1-123456789012" },
    stages: [
      {
        name: "Source",
        actions: [
          {
            name: "Source",
            actionTypeId: { category: "Source", owner: "AWS", provider: "CodeCommit", version: "1" },
            runOrder: 1,
            configuration: { BranchName: "main", RepositoryName: "shop", PollForSourceChanges: "false" },
            outputArtifacts: [{ name: "SourceArtifact" }],
            inputArtifacts: [],
            region: "eu-west-1",
            namespace: "SourceVariables",
          },
        ],
      },
      {
        name: "Build",
        actions: [
          {
            name: "Build",
            actionTypeId: { category: "Build", owner: "AWS", provider: "CodeBuild", version: "1" },
            runOrder: 1,
            configuration: { ProjectName: "shop-build" },
            outputArtifacts: [{ name: "BuildArtifact" }],
            inputArtifacts: [{ name: "SourceArtifact" }],
            region: "eu-west-1",
          },
        ],
      },
      {
        name: "Approve",
        actions: [
          {
            name: "Approve",
            actionTypeId: { category: "Approval", owner: "AWS", provider: "Manual", version: "1" },
            runOrder: 1,
            configuration: { CustomData: "Ship it?" },
            outputArtifacts: [],
            inputArtifacts: [],
          },
        ],
      },
    ],
    version: 3,
    pipelineType: "V2",
    executionMode: "QUEUED",
  },
  metadata: {
    pipelineArn: "arn:aws:codepipeline:eu-west-1:123456789012:shop",
    created: "2024-05-01T10:00:00.000000+00:00",
    updated: "2024-06-01T10:00:00.000000+00:00",
  },
};

describe("importPipeline", () => {
  it("imports aws codepipeline get-pipeline JSON, warns about every mapping, and writes it back as AWS", async () => {
    const result = dataOf(await t.gql(IMPORT, { document: awsGetPipeline })).importPipeline;
    expect(result.pipeline).toMatchObject({ name: "shop", version: 1 });
    const types = result.pipeline.stages.map((s: any) => s.actions[0].actionTypeId);
    expect(types).toEqual([
      { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
      { category: "Build", owner: "Custom", provider: "CodeBuild", version: "1" },
      { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
    ]);
    const warned = result.warnings.map((w: { path: string }) => w.path).join("\n");
    expect(warned).toMatch(/stages\[0\]\.actions\[0\]/);
    expect(warned).toMatch(/stages\[1\]\.actions\[0\]/);
    expect(warned).toMatch(/roleArn|artifactStore/);
    for (const w of result.warnings) expect(w.message.length).toBeGreaterThan(10);

    // The custom type was created with the import.
    const builds = dataOf(await t.gql(ACTION_TYPES, { category: "Build" })).actionTypes;
    expect(builds.map((b: any) => `${b.id.owner}/${b.id.provider}`)).toContain("Custom/CodeBuild");

    const back = dataOf(await t.gql(DOCUMENT, { name: "shop", format: "AWS" })).pipeline.document;
    expect(back).toEqual(awsGetPipeline);
  });

  it("imports Sluice's own document without warnings", async () => {
    const result = dataOf(await t.gql(IMPORT, { document: simplePipeline("own") })).importPipeline;
    expect(result).toMatchObject({ pipeline: { name: "own", version: 1 }, warnings: [] });
  });

  it("rejects an invalid AWS document with paths and creates neither pipeline nor custom type", async () => {
    const broken = structuredClone(awsGetPipeline);
    broken.pipeline.name = "broken";
    broken.pipeline.stages[1]!.actions[0]!.actionTypeId.provider = "Jenkins";
    broken.pipeline.stages[1]!.actions[0]!.inputArtifacts = [{ name: "Nowhere" }];
    const response = await t.gql(IMPORT, { document: broken });
    expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(response.errors?.[0]?.extensions?.validationErrors.map((e: any) => e.path)).toContain(
      "stages[1].actions[0].inputArtifacts[0].name",
    );
    expect(dataOf(await t.gql(DOCUMENT, { name: "broken" })).pipeline).toBeNull();
    const builds = dataOf(await t.gql(ACTION_TYPES, { category: "Build" })).actionTypes;
    expect(builds.map((b: any) => b.id.provider)).not.toContain("Jenkins");
  });
});

describe("action types", () => {
  const CREATE_TYPE = `mutation ($input: CustomActionTypeInput!) { createCustomActionType(input: $input) { id { category owner provider version } configurationProperties { name required secret } } }`;
  const DELETE_TYPE = `mutation { deleteCustomActionType(category: "Test", provider: "Lighthouse", version: "2") }`;
  const lighthouse = {
    category: "Test",
    provider: "Lighthouse",
    version: "2",
    configurationProperties: [
      { name: "Url", required: true, secret: false, description: "page to audit" },
      { name: "ApiKey", required: false, secret: true },
    ],
    inputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
  };
  const usingLighthouse = (name: string, configuration: Record<string, string>) =>
    simplePipeline(name, {
      stages: [
        simplePipeline(name).stages[0],
        {
          name: "Audit",
          actions: [
            {
              name: "Lighthouse",
              actionTypeId: { category: "Test", owner: "Custom", provider: "Lighthouse", version: "2" },
              configuration,
              inputArtifacts: [{ name: "SourceCode" }],
            },
          ],
        },
      ],
    });

  it("lists the built-in types with their properties and bounds", async () => {
    const all = dataOf(await t.gql(ACTION_TYPES)).actionTypes;
    const keys = all
      .filter((a: any) => a.id.owner === "Sluice")
      .map((a: any) => `${a.id.category}/${a.id.provider}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        "Source/Git",
        "Source/Upload",
        "Build/Shell",
        "Test/Shell",
        "Deploy/Shell",
        "Approval/Manual",
        "Invoke/Webhook",
      ]),
    );
    const git = all.find((a: any) => a.id.provider === "Git");
    expect(
      git.configurationProperties
        .filter((p: any) => p.required)
        .map((p: any) => p.name)
        .sort(),
    ).toEqual(["Branch", "Repository"]);
    expect(git.outputArtifactDetails).toEqual({ minimumCount: 1, maximumCount: 1 });
    const webhook = all.find((a: any) => a.id.provider === "Webhook");
    expect(webhook.configurationProperties.find((p: any) => p.name === "Secret").secret).toBe(true);
  });

  it("creates a custom type that validation then uses, and refuses to delete it while a pipeline uses it", async () => {
    const created = dataOf(await t.gql(CREATE_TYPE, { input: lighthouse })).createCustomActionType;
    expect(created.id).toEqual({ category: "Test", owner: "Custom", provider: "Lighthouse", version: "2" });
    expect((await t.gql(CREATE_TYPE, { input: lighthouse })).errors?.[0]?.extensions?.code).toBe("CONFLICT");

    const missing = await t.gql(
      `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`,
      {
        input: usingLighthouse("audited-bad", {}),
      },
    );
    expect(missing.errors?.[0]?.extensions?.validationErrors.map((e: any) => e.path)).toEqual([
      "stages[1].actions[0].configuration.Url",
    ]);
    dataOf(
      await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
        input: usingLighthouse("audited", { Url: "https://shop.example" }),
      }),
    );

    const refused = await t.gql(DELETE_TYPE);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", pipelines: ["audited"] });
    dataOf(await t.gql(`mutation { deletePipeline(name: "audited") }`));
    expect(dataOf(await t.gql(DELETE_TYPE)).deleteCustomActionType).toBe(true);
    expect((await t.gql(DELETE_TYPE)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("rejects an invalid custom type with every problem's path", async () => {
    const response = await t.gql(CREATE_TYPE, {
      input: {
        ...lighthouse,
        provider: "bad provider!",
        inputArtifactDetails: { minimumCount: 3, maximumCount: 1 },
      },
    });
    expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const paths = response.errors?.[0]?.extensions?.validationErrors.map((e: any) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["provider"]));
    expect(paths.some((p: string) => p.startsWith("inputArtifactDetails"))).toBe(true);
  });
});
