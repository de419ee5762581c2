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

describe("rule 10: unknown configuration keys are an error for built-in types", () => {
  it("accepts unknown keys on a custom type", () => {
    const helm = action("Helm", actionType("Deploy", "Helm", "Custom"), {
      configuration: { Chart: "app", Namespace: "prod" },
      inputArtifacts: [{ name: "SourceCode" }],
    });
    expectValid(
      pipeline({ stages: [stage("Source", [gitSource()]), stage("Deploy", [helm])] }),
      registryWithHelm(),
    );
  });

  it("reports an unknown key of a built-in type, naming the allowed keys", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { configuration: { Commands: "make", Image: "node" } })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].configuration.Image",
          message:
            'Configuration key "Image" is not a property of Build/Sluice/Shell@1; the allowed keys are Commands, EnvironmentVariables and OutputFiles.',
        },
      ],
    );
  });

  it("reports any key on a type without configuration, with a bracketed path for an odd key", () => {
    const upload = action("Upload", actionType("Source", "Upload"), {
      configuration: { "a key": "x" },
      outputArtifacts: [{ name: "SourceCode" }],
    });
    expectIssues(pipeline({ stages: [stage("Source", [upload]), stage("Build", [shellBuild()])] }), [
      {
        path: 'stages[0].actions[0].configuration["a key"]',
        message: expect.stringMatching(/Source\/Sluice\/Upload@1; it takes no configuration\.$/),
      },
    ]);
  });
});
