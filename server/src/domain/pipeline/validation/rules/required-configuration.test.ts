import { expectIssues, expectValid, gitSource, pipeline, shellBuild, stage } from "../__tests__/harness";

describe("rule 10: required configuration properties are present", () => {
  it("accepts the required properties", () => {
    expectValid(pipeline());
  });

  it("reports a missing property at its key", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource("Checkout", { configuration: { Branch: "main" } })]),
          stage("Build", [shellBuild()]),
        ],
      }),
      [
        {
          path: "stages[0].actions[0].configuration.Repository",
          message:
            'Source/Sluice/Git@1 requires configuration "Repository", which action "Checkout" of stage "Source" does not set.',
        },
      ],
    );
  });

  it("reports a blank property", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { configuration: { Commands: "  " } })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].configuration.Commands",
          message: expect.stringMatching(
            /^Configuration "Commands" of action "Compile" of stage "Build" is blank/,
          ),
        },
      ],
    );
  });
});
