import { approval, expectIssues, expectValid, gitSource, pipeline, stage } from "../__tests__/harness";

describe("rule 4: at least one action is not a Source action", () => {
  it("accepts a pipeline whose only non-source action is an approval", () => {
    expectValid(pipeline({ stages: [stage("Source", [gitSource()]), stage("Gate", [approval()])] }));
  });

  it("reports a pipeline of nothing but sources at stages", () => {
    const second = gitSource("Second", { outputArtifacts: [{ name: "Other" }] });
    expectIssues(pipeline({ stages: [stage("Source", [gitSource()]), stage("More", [second])] }), [
      { path: "stages", message: expect.stringMatching(/^The pipeline has only Source actions/) },
      { path: "stages[1].actions[0].actionTypeId.category" }, // rule 3
    ]);
  });
});
