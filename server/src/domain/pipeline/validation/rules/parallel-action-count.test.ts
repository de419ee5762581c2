import { approval, expectIssues, expectValid, gitSource, pipeline, stage } from "../__tests__/harness";

describe("the quota: 50 actions with the same runOrder in a stage", () => {
  it("accepts 50 parallel actions", () => {
    const approvals = Array.from({ length: 50 }, (_, i) => approval(`Approve${i}`));
    expectValid(pipeline({ stages: [stage("Source", [gitSource()]), stage("Approve", approvals)] }));
  });

  it("reports 51 parallel actions as a limit (with the stage's own 50-action limit)", () => {
    const approvals = Array.from({ length: 51 }, (_, i) => approval(`Approve${i}`, { runOrder: 3 }));
    expectIssues(pipeline({ stages: [stage("Source", [gitSource()]), stage("Approve", approvals)] }), [
      { path: "stages[1].actions", message: expect.stringMatching(/has 51 actions/), limit: true },
      {
        path: "stages[1].actions",
        message: 'Stage "Approve" runs 51 actions in parallel at runOrder 3; the limit is 50.',
        limit: true,
      },
    ]);
  });
});
