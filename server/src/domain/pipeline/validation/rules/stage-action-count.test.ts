import { expectIssues, expectValid, gitSource, pipeline, shellBuild, stage } from "../__tests__/harness";

describe("rule 6 and the quota: 1–50 actions per stage", () => {
  it("accepts 50 actions in a stage", () => {
    const builds = Array.from({ length: 50 }, (_, i) => shellBuild(`Compile${i}`, { runOrder: i + 1 }));
    expectValid(pipeline({ stages: [stage("Source", [gitSource()]), stage("Build", builds)] }));
  });

  it("reports an empty stage", () => {
    expectIssues(
      pipeline({
        stages: [stage("Source", [gitSource()]), stage("Build", [shellBuild()]), stage("Empty", [])],
      }),
      [
        {
          path: "stages[2].actions",
          message: 'Stage "Empty" has no actions; every stage needs at least one.',
        },
      ],
    );
  });

  it("reports an empty first stage (rule 2: the first stage holds at least one action)", () => {
    expectIssues(pipeline({ stages: [stage("Source", []), stage("Build", [shellBuild()])] }), [
      { path: "stages[0].actions", message: expect.stringMatching(/^Stage "Source" has no actions/) },
      // Nothing produces SourceCode now.
      { path: "stages[1].actions[0].inputArtifacts[0].name" },
    ]);
  });

  it("reports 51 actions in a stage as a limit", () => {
    const builds = Array.from({ length: 51 }, (_, i) => shellBuild(`Compile${i}`, { runOrder: i + 1 }));
    expectIssues(pipeline({ stages: [stage("Source", [gitSource()]), stage("Build", builds)] }), [
      {
        path: "stages[1].actions",
        message: 'Stage "Build" has 51 actions; the limit is 50 per stage.',
        limit: true,
      },
    ]);
  });
});
