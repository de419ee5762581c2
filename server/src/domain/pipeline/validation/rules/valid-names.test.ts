import {
  action,
  actionType,
  clone,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

describe("valid names", () => {
  it("accepts names at their length limits and with every allowed character", () => {
    expectValid(
      pipeline({
        name: "a".repeat(100),
        variables: [{ name: `Env@_-${"v".repeat(122)}`, defaultValue: null, description: null }],
        stages: [
          stage("Source.v1@main_-x", [
            gitSource("Check.out@1_-", { namespace: "Src@_-1", region: "eu-west_1" }),
          ]),
          stage("b".repeat(100), [shellBuild()]),
        ],
      }),
    );
  });

  it.each([
    [
      "the pipeline name",
      (d: ReturnType<typeof pipeline>) => void (d.name = "web app"),
      "name",
      /^Pipeline name "web app" contains characters/,
    ],
    [
      "an empty pipeline name",
      (d: ReturnType<typeof pipeline>) => void (d.name = ""),
      "name",
      /^Pipeline name "" is empty/,
    ],
    [
      "a long pipeline name",
      (d: ReturnType<typeof pipeline>) => void (d.name = "p".repeat(101)),
      "name",
      /is 101 characters long: use 1 to 100/,
    ],
    [
      "a stage name",
      (d: ReturnType<typeof pipeline>) => void (d.stages[1]!.name = "bad name!"),
      "stages[1].name",
      /^Stage name "bad name!"/,
    ],
    [
      "an action name",
      (d: ReturnType<typeof pipeline>) => void (d.stages[1]!.actions[0]!.name = "a/b"),
      "stages[1].actions[0].name",
      /^Action name "a\/b"/,
    ],
  ])("reports %s", (_, mutate, path, message) => {
    const doc = clone(pipeline());
    mutate(doc);
    expectIssues(doc, [{ path, message: expect.stringMatching(message) }]);
  });

  it("reports artifact names with dots (allowed in stage names, not artifact names)", () => {
    const doc = pipeline({
      stages: [
        stage("Source", [gitSource("Checkout", { outputArtifacts: [{ name: "Source.Code" }] })]),
        stage("Build", [shellBuild("Compile", { inputArtifacts: [{ name: "Source.Code" }] })]),
      ],
    });
    expectIssues(doc, [
      {
        path: "stages[0].actions[0].outputArtifacts[0].name",
        message: expect.stringMatching(/^Artifact name "Source.Code"/),
      },
      {
        path: "stages[1].actions[0].inputArtifacts[0].name",
        message: expect.stringMatching(/^Artifact name "Source.Code"/),
      },
    ]);
  });

  it("reports namespaces, variable names and regions", () => {
    const doc = pipeline({
      variables: [{ name: "v".repeat(129), defaultValue: null, description: null }],
      stages: [
        stage("Source", [gitSource("Checkout", { namespace: "Src.Vars" })]),
        stage("Build", [shellBuild("Compile", { region: "eu west" })]),
      ],
    });
    expectIssues(doc, [
      {
        path: "variables[0].name",
        message: expect.stringMatching(/^Variable name .* is 129 characters long: use 1 to 128/),
      },
      {
        path: "stages[0].actions[0].namespace",
        message: expect.stringMatching(/^Namespace "Src.Vars" contains/),
      },
      {
        path: "stages[1].actions[0].region",
        message: expect.stringMatching(/^Region \(agent pool\) name "eu west"/),
      },
    ]);
  });

  it("reserves the namespaces variables and codepipeline", () => {
    const doc = pipeline({
      stages: [
        stage("Source", [gitSource("Checkout", { namespace: "variables" })]),
        stage("Build", [
          action("Notify", actionType("Invoke", "Webhook"), {
            configuration: { Url: "https://x" },
            namespace: "codepipeline",
          }),
        ]),
      ],
    });
    expectIssues(doc, [
      {
        path: "stages[0].actions[0].namespace",
        message: expect.stringMatching(/^Namespace "variables" is reserved/),
      },
      {
        path: "stages[1].actions[0].namespace",
        message: expect.stringMatching(/^Namespace "codepipeline" is reserved/),
      },
    ]);
  });
});
