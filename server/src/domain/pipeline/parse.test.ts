import {
  exportPipelineDocument,
  parseActionDeclaration,
  parsePipelineDocument,
  parseStageDeclaration,
} from "./parse";
import type { PipelineDocument } from "./document";

const minimal = {
  name: "web-app",
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
          configuration: { Repository: "https://git.example/app.git", Branch: "main" },
          outputArtifacts: [{ name: "SourceCode" }],
        },
      ],
    },
    {
      name: "Build",
      actions: [
        {
          name: "Compile",
          actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
          inputArtifacts: [{ name: "SourceCode" }],
        },
      ],
    },
  ],
};

function issuesOf(input: unknown) {
  const result = parsePipelineDocument(input);
  if (result.ok) throw new Error("expected issues");
  return result.issues;
}

describe("parsePipelineDocument", () => {
  it("fills every default", () => {
    const result = parsePipelineDocument(minimal);
    expect(result).toEqual({
      ok: true,
      document: {
        name: "web-app",
        executionMode: "SUPERSEDED",
        variables: [],
        triggers: [],
        schedules: [],
        awsMetadata: null,
        stages: [
          {
            name: "Source",
            onNewerRevision: null,
            awsMetadata: null,
            actions: [
              {
                name: "Checkout",
                actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
                runOrder: 1,
                configuration: { Repository: "https://git.example/app.git", Branch: "main" },
                inputArtifacts: [],
                outputArtifacts: [{ name: "SourceCode" }],
                namespace: null,
                region: null,
                timeoutInMinutes: null,
                retryPolicy: null,
                awsMetadata: null,
              },
            ],
          },
          {
            name: "Build",
            onNewerRevision: null,
            awsMetadata: null,
            actions: [
              {
                name: "Compile",
                actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
                runOrder: 1,
                configuration: {},
                inputArtifacts: [{ name: "SourceCode" }],
                outputArtifacts: [],
                namespace: null,
                region: null,
                timeoutInMinutes: null,
                retryPolicy: null,
                awsMetadata: null,
              },
            ],
          },
        ],
      } satisfies PipelineDocument,
    });
  });

  it("fills variable and trigger defaults and accepts null for optional fields", () => {
    const result = parsePipelineDocument({
      ...minimal,
      executionMode: null,
      variables: [{ name: "Env" }, { name: "Region", defaultValue: null, description: null }],
      triggers: [
        { providerType: "Git", gitConfiguration: { sourceActionName: "Checkout" } },
        {
          providerType: "Git",
          gitConfiguration: {
            sourceActionName: "Checkout",
            push: [{ branches: { includes: ["main"] }, tags: null }],
          },
        },
      ],
      awsMetadata: null,
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.document.executionMode).toBe("SUPERSEDED");
    expect(result.document.variables).toEqual([
      { name: "Env", defaultValue: null, description: null },
      { name: "Region", defaultValue: null, description: null },
    ]);
    expect(result.document.triggers).toEqual([
      { providerType: "Git", gitConfiguration: { sourceActionName: "Checkout", push: [] } },
      {
        providerType: "Git",
        gitConfiguration: {
          sourceActionName: "Checkout",
          push: [{ branches: { includes: ["main"], excludes: [] }, filePaths: null, tags: null }],
        },
      },
    ]);
  });

  it("gives every document its own default lists", () => {
    const a = parsePipelineDocument(minimal);
    const b = parsePipelineDocument(minimal);
    if (!a.ok || !b.ok) throw new Error("expected documents");
    a.document.variables.push({ name: "X", defaultValue: null, description: null });
    expect(b.document.variables).toEqual([]);
  });

  it("reports an unknown key at its path, naming the allowed keys", () => {
    const input = structuredClone(minimal) as Record<string, unknown> & typeof minimal;
    (input.stages[1]!.actions[0] as Record<string, unknown>).onFailure = "ROLLBACK";
    (input as Record<string, unknown>).roleArn = "arn:aws:iam::1:role/x";
    expect(issuesOf(input)).toEqual([
      {
        path: "stages[1].actions[0].onFailure",
        message:
          'Unknown key "onFailure". The allowed keys here are name, actionTypeId, runOrder, configuration, inputArtifacts, outputArtifacts, namespace, region, timeoutInMinutes, retryPolicy, awsMetadata.',
      },
      // Unknown keys sort after the known fields of their object.
      {
        path: "roleArn",
        message:
          'Unknown key "roleArn". The allowed keys here are name, executionMode, variables, triggers, schedules, stages, awsMetadata.',
      },
    ]);
  });

  it("reports every type problem at once, in document order, with sentences naming the value", () => {
    const input = structuredClone(minimal) as unknown as {
      name: unknown;
      executionMode?: unknown;
      stages: { name?: unknown; actions: Record<string, unknown>[] }[];
    };
    input.name = 42;
    input.executionMode = "FAST";
    delete input.stages[0]!.name;
    input.stages[0]!.actions[0]!.runOrder = "1";
    input.stages[0]!.actions[0]!.configuration = { Repository: 7, Branch: "main" };
    input.stages[1]!.actions[0]!.actionTypeId = {
      category: "Compile",
      owner: "AWS",
      provider: "Shell",
      version: "1",
    };
    input.stages[1]!.actions[0]!.inputArtifacts = ["SourceCode"];
    expect(issuesOf(input)).toEqual([
      { path: "name", message: "name must be a string; got 42." },
      {
        path: "executionMode",
        message: 'executionMode must be one of SUPERSEDED, QUEUED, PARALLEL; got "FAST".',
      },
      { path: "stages[0].name", message: "name is required." },
      {
        path: "stages[0].actions[0].runOrder",
        message: 'runOrder must be an integer from 1 to 999; got "1".',
      },
      {
        path: "stages[0].actions[0].configuration.Repository",
        message: 'The value of configuration key "Repository" must be a string.',
      },
      {
        path: "stages[1].actions[0].actionTypeId.category",
        message: 'category must be one of Source, Build, Test, Deploy, Approval, Invoke; got "Compile".',
      },
      {
        path: "stages[1].actions[0].actionTypeId.owner",
        message: 'owner must be one of Sluice, Custom; got "AWS".',
      },
      {
        path: "stages[1].actions[0].inputArtifacts[0]",
        message: 'inputArtifacts[0] must be an object; got "SourceCode".',
      },
    ]);
  });

  it("accepts a stage's onNewerRevision and reports a value it does not know", () => {
    const withOption = (value: unknown) => ({
      ...minimal,
      stages: [minimal.stages[0], { ...minimal.stages[1], onNewerRevision: value }],
    });
    const parsed = parsePipelineDocument(withOption("SUPERSEDE_PENDING_APPROVAL"));
    if (!parsed.ok) throw new Error("expected a document");
    expect(parsed.document.stages.map((stage) => stage.onNewerRevision)).toEqual([
      null,
      "SUPERSEDE_PENDING_APPROVAL",
    ]);
    expect(issuesOf(withOption("SUPERSEDE_ALWAYS")).map((issue) => issue.path)).toEqual([
      "stages[1].onNewerRevision",
    ]);
    const exported = exportPipelineDocument(parsed.document);
    expect((exported.stages as Record<string, unknown>[])[1]!["onNewerRevision"]).toBe(
      "SUPERSEDE_PENDING_APPROVAL",
    );
  });

  it("reports a document that is not an object", () => {
    expect(issuesOf("pipeline")).toEqual([
      { path: "", message: 'The pipeline document must be an object; got "pipeline".' },
    ]);
    expect(issuesOf({ name: "x", stages: {} })).toEqual([
      { path: "stages", message: "stages must be a list; got an object." },
    ]);
  });

  it("reports a trigger with another provider type", () => {
    expect(
      issuesOf({
        ...minimal,
        triggers: [{ providerType: "GitHub", gitConfiguration: { sourceActionName: "Checkout" } }],
      }),
    ).toEqual([{ path: "triggers[0].providerType", message: 'providerType must be "Git"; got "GitHub".' }]);
  });

  it("reports a document over 100 KB as a limit at the root", () => {
    const big = structuredClone(minimal);
    big.stages[1]!.actions[0]!.actionTypeId.provider = "x".repeat(110 * 1024);
    expect(issuesOf(big)).toEqual([
      {
        path: "",
        message: expect.stringMatching(
          /^The pipeline document is 110\.\d KB of JSON; the limit is 100 KB\.$/,
        ),
        limit: true,
      },
    ]);
  });
});

describe("parseStageDeclaration and parseActionDeclaration", () => {
  it("parse one stage or action with the document's defaults", () => {
    const stage = parseStageDeclaration(minimal.stages[1]);
    expect(stage.ok && stage.stage.actions[0]!.runOrder).toBe(1);
    const action = parseActionDeclaration(minimal.stages[0]!.actions[0]);
    expect(action.ok && action.action.namespace).toBeNull();
  });

  it("prefix issue paths", () => {
    expect(parseActionDeclaration({ name: "A" }, ["edits", 0, "addAction", "action"])).toEqual({
      ok: false,
      issues: [{ path: "edits[0].addAction.action.actionTypeId", message: "actionTypeId is required." }],
    });
  });
});

describe("exportPipelineDocument", () => {
  const parsed = parsePipelineDocument({
    ...minimal,
    variables: [{ name: "Env", defaultValue: "staging" }],
    triggers: [
      {
        providerType: "Git",
        gitConfiguration: { sourceActionName: "Checkout", push: [{ tags: { includes: ["v*"] } }] },
      },
    ],
  });
  if (!parsed.ok) throw new Error("expected a document");
  const doc = parsed.document;

  it("leaves out nulls and keeps the lists, runOrder and configuration", () => {
    const exported = exportPipelineDocument(doc);
    expect(exported).toEqual({
      name: "web-app",
      executionMode: "SUPERSEDED",
      variables: [{ name: "Env", defaultValue: "staging" }],
      triggers: [
        {
          providerType: "Git",
          gitConfiguration: {
            sourceActionName: "Checkout",
            push: [{ tags: { includes: ["v*"], excludes: [] } }],
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
              configuration: { Repository: "https://git.example/app.git", Branch: "main" },
              inputArtifacts: [],
              outputArtifacts: [{ name: "SourceCode" }],
            },
          ],
        },
        {
          name: "Build",
          actions: [
            {
              name: "Compile",
              actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
              runOrder: 1,
              configuration: {},
              inputArtifacts: [{ name: "SourceCode" }],
              outputArtifacts: [],
            },
          ],
        },
      ],
    });
    expect(JSON.stringify(exported)).not.toContain("null");
  });

  it("round-trips through parse, including awsMetadata, and shares nothing with the document", () => {
    const withMetadata: PipelineDocument = {
      ...doc,
      awsMetadata: { roleArn: "arn:x", artifactStore: { type: "S3" } },
    };
    const exported = exportPipelineDocument(withMetadata);
    expect(parsePipelineDocument(exported)).toEqual({ ok: true, document: withMetadata });
    (exported.awsMetadata as { artifactStore: { type: string } }).artifactStore.type = "changed";
    (
      exported.stages as { actions: { configuration: Record<string, string> }[] }[]
    )[0]!.actions[0]!.configuration.Branch = "dev";
    expect(withMetadata.awsMetadata).toEqual({ roleArn: "arn:x", artifactStore: { type: "S3" } });
    expect(doc.stages[0]!.actions[0]!.configuration.Branch).toBe("main");
  });
});
