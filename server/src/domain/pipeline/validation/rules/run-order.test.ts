import {
  approval,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

function withRunOrder(runOrder: number) {
  return pipeline({
    stages: [stage("Source", [gitSource()]), stage("Build", [shellBuild(), approval("Gate", { runOrder })])],
  });
}

describe("rule 7: runOrder is an integer from 1 to 999", () => {
  it.each([1, 2, 500, 999])("accepts %d", (runOrder) => {
    expectValid(withRunOrder(runOrder));
  });

  it.each([0, -1, 1000, 1.5])("reports %d", (runOrder) => {
    expectIssues(withRunOrder(runOrder), [
      {
        path: "stages[1].actions[1].runOrder",
        message: `runOrder must be an integer from 1 to 999; action "Gate" has ${runOrder}.`,
      },
    ]);
  });

  it("reports a runOrder that is not a number while parsing", () => {
    const doc = withRunOrder(1) as unknown as { stages: { actions: { runOrder: unknown }[] }[] };
    doc.stages[1]!.actions[1]!.runOrder = "2";
    expectIssues(doc, [
      {
        path: "stages[1].actions[1].runOrder",
        message: 'runOrder must be an integer from 1 to 999; got "2".',
      },
    ]);
  });
});
