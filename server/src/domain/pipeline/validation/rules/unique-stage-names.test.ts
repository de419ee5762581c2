import {
  approval,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

describe("rule 5: stage names are unique", () => {
  it("accepts names that differ only in case", () => {
    expectValid(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild()]),
          stage("build", [approval()]),
        ],
      }),
    );
  });

  it("reports the repeated name", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild()]),
          stage("Build", [approval()]),
        ],
      }),
      [
        {
          path: "stages[2].name",
          message:
            'Stage name "Build" is already used by stages[1]; stage names must be unique in the pipeline.',
        },
      ],
    );
  });
});
