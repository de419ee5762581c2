import {
  action,
  actionType,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  registryWithHelm,
  shellBuild,
  stage,
} from "../__tests__/harness";

const five = ["A", "B", "C", "D", "E"].map((name) => ({ name }));

describe("rule 9: artifact counts within the action type's bounds", () => {
  it("accepts the maximum counts", () => {
    expectValid(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { outputArtifacts: five })]),
          stage("Test", [shellBuild("Check", { inputArtifacts: five, outputArtifacts: [] })]),
        ],
      }),
    );
  });

  it("reports a Build action without inputs", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { inputArtifacts: [] })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].inputArtifacts",
          message:
            'Build/Sluice/Shell@1 needs at least 1 input artifact, but action "Compile" of stage "Build" has 0.',
        },
      ],
    );
  });

  it("reports six outputs as a limit", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { outputArtifacts: [...five, { name: "F" }] })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].outputArtifacts",
          message:
            'Build/Sluice/Shell@1 takes at most 5 output artifacts, but action "Compile" of stage "Build" has 6.',
          limit: true,
        },
      ],
    );
  });

  it("reports an output on a type that takes none as a structure error", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Gate", [
            action("Approve", actionType("Approval", "Manual"), { outputArtifacts: [{ name: "X" }] }),
          ]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].outputArtifacts",
          message: expect.stringMatching(/^Approval\/Sluice\/Manual@1 takes no output artifacts/),
        },
      ],
    );
  });

  it("applies a custom type's bounds", () => {
    const helm = (inputs: number) =>
      action("Helm", actionType("Deploy", "Helm", "Custom"), {
        configuration: { Chart: "app" },
        inputArtifacts: ["SourceCode", "ToolCode", "DocCode"].slice(0, inputs).map((name) => ({ name })),
      });
    const sources = stage("Source", [
      gitSource(),
      gitSource("Tools", { outputArtifacts: [{ name: "ToolCode" }] }),
      gitSource("Docs", { outputArtifacts: [{ name: "DocCode" }] }),
    ]);
    expectValid(pipeline({ stages: [sources, stage("Deploy", [helm(2)])] }), registryWithHelm());
    expectIssues(
      pipeline({ stages: [sources, stage("Deploy", [helm(3)])] }),
      [
        {
          path: "stages[1].actions[0].inputArtifacts",
          message: expect.stringMatching(/^Deploy\/Custom\/Helm@1 takes at most 2 input artifacts/),
          limit: true,
        },
      ],
      registryWithHelm(),
    );
  });
});
