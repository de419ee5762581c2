import { MAX_STAGES_PER_PIPELINE } from "../../../limits";
import { expectIssues, expectValid, gitSource, pipeline, shellBuild, stage } from "../__tests__/harness";

describe("rule 1 and the stage quota: 2–50 stages", () => {
  it("accepts 2 stages", () => {
    expectValid(pipeline());
  });

  it("accepts 50 stages", () => {
    const builds = Array.from({ length: MAX_STAGES_PER_PIPELINE - 1 }, (_, i) =>
      stage(`Build${i}`, [shellBuild()]),
    );
    expectValid(pipeline({ stages: [stage("Source", [gitSource()]), ...builds] }));
  });

  it("reports a pipeline with one stage as a structure error", () => {
    expectIssues(pipeline({ stages: [stage("Source", [gitSource()])] }), [
      {
        path: "stages",
        message: expect.stringMatching(/^A pipeline needs at least 2 stages .* this one has 1 stage\.$/),
      },
    ]);
  });

  it("reports a pipeline without stages", () => {
    expectIssues(pipeline({ stages: [] }), [
      { path: "stages", message: expect.stringMatching(/has 0 stages\.$/) },
    ]);
  });

  it("reports 51 stages as a limit", () => {
    const builds = Array.from({ length: MAX_STAGES_PER_PIPELINE }, (_, i) =>
      stage(`Build${i}`, [shellBuild()]),
    );
    expectIssues(pipeline({ stages: [stage("Source", [gitSource()]), ...builds] }), [
      { path: "stages", message: "A pipeline has at most 50 stages; this one has 51.", limit: true },
    ]);
  });
});
