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

function helmWith(configuration: Record<string, string>) {
  const helm = action("Helm", actionType("Deploy", "Helm", "Custom"), {
    configuration: { Chart: "app", ...configuration },
    inputArtifacts: [{ name: "SourceCode" }],
  });
  return pipeline({ stages: [stage("Source", [gitSource()]), stage("Deploy", [helm])] });
}

describe("configuration keys are 1–50 characters, values at most 1000", () => {
  it("accepts a 50-character key and a 1000-character value", () => {
    expectValid(helmWith({ ["k".repeat(50)]: "v".repeat(1000) }), registryWithHelm());
  });

  it("reports a 51-character key", () => {
    const key = "k".repeat(51);
    expectIssues(
      helmWith({ [key]: "v" }),
      [
        {
          path: `stages[1].actions[0].configuration.${key}`,
          message: expect.stringMatching(/is 51 characters long; keys are 1 to 50 characters\.$/),
        },
      ],
      registryWithHelm(),
    );
  });

  it("reports an empty key", () => {
    expectIssues(
      helmWith({ "": "v" }),
      [
        {
          path: 'stages[1].actions[0].configuration[""]',
          message: 'Configuration key "" is 0 characters long; keys are 1 to 50 characters.',
        },
      ],
      registryWithHelm(),
    );
  });

  it("reports a 1001-character value", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { configuration: { Commands: "x".repeat(1001) } })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].configuration.Commands",
          message: 'The value of configuration key "Commands" is 1001 characters long; the limit is 1000.',
        },
      ],
    );
  });
});
