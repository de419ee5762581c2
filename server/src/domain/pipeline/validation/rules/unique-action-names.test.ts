import {
  approval,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

describe("rule 5: action names are unique in their stage", () => {
  it("accepts the same action name in two stages", () => {
    expectValid(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Go")]),
          stage("Gate", [approval("Go")]),
        ],
      }),
    );
  });

  it("reports the repeated name in one stage", () => {
    expectIssues(
      pipeline({
        stages: [stage("Source", [gitSource()]), stage("Build", [shellBuild(), approval("Compile")])],
      }),
      [
        {
          path: "stages[1].actions[1].name",
          message:
            'Action name "Compile" is already used by stages[1].actions[0]; action names must be unique in stage "Build".',
        },
      ],
    );
  });
});
