import { expectIssues, expectValid, gitSource, pipeline, shellBuild, stage } from "../__tests__/harness";

describe("rule 5: output artifact names are unique in the pipeline", () => {
  it("accepts distinct outputs", () => {
    expectValid(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { outputArtifacts: [{ name: "App" }, { name: "Docs" }] })]),
        ],
      }),
    );
  });

  it("reports the repeated output", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [
            shellBuild("Compile", { outputArtifacts: [{ name: "App" }, { name: "SourceCode" }] }),
          ]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].outputArtifacts[1].name",
          message:
            'Output artifact "SourceCode" is already produced by action "Checkout" of stage "Source"; output artifact names must be unique in the pipeline.',
        },
      ],
    );
  });

  it("reports an output listed twice by one action", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { outputArtifacts: [{ name: "App" }, { name: "App" }] })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].outputArtifacts[1].name",
          message: expect.stringMatching(
            /^Output artifact "App" is listed twice by action "Compile" of stage "Build"/,
          ),
        },
      ],
    );
  });
});
