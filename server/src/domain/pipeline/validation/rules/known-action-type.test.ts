import {
  action,
  actionType,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  registryWithHelm,
  stage,
} from "../__tests__/harness";

describe("rule 12: the action type exists", () => {
  it("accepts a registered custom type", () => {
    const helm = action("Helm", actionType("Deploy", "Helm", "Custom"), {
      configuration: { Chart: "app" },
      inputArtifacts: [{ name: "SourceCode" }],
    });
    expectValid(
      pipeline({ stages: [stage("Source", [gitSource()]), stage("Deploy", [helm])] }),
      registryWithHelm(),
    );
  });

  it("reports an unknown provider and lists what exists for the category", () => {
    const doc = pipeline({
      stages: [
        stage("Source", [gitSource()]),
        stage("Build", [
          action("Compile", actionType("Build", "Gradle"), { inputArtifacts: [{ name: "SourceCode" }] }),
        ]),
      ],
    });
    expectIssues(doc, [
      {
        path: "stages[1].actions[0].actionTypeId",
        message:
          'Action "Compile" uses action type Build/Sluice/Gradle@1, which does not exist. Build action types that exist: Build/Sluice/Shell@1.',
      },
    ]);
  });

  it("reports an unknown version", () => {
    const doc = pipeline({
      stages: [
        stage("Source", [gitSource()]),
        stage("Deploy", [action("Helm", { ...actionType("Deploy", "Helm", "Custom"), version: "2" })]),
      ],
    });
    expectIssues(
      doc,
      [
        {
          path: "stages[1].actions[0].actionTypeId",
          message: expect.stringMatching(
            /Deploy\/Custom\/Helm@2, which does not exist\. Deploy action types that exist: Deploy\/Sluice\/Shell@1 and Deploy\/Custom\/Helm@1\.$/,
          ),
        },
      ],
      registryWithHelm(),
    );
  });
});
