import { approval, expectIssues, expectValid, gitSource, pipeline, stage } from "../__tests__/harness";

/** Short approvals, so 500 actions stay within the 100 KB document quota. */
function withActions(total: number) {
  const stages = [];
  for (let i = 0; i * 50 < total - 1; i++) {
    const n = Math.min(50, total - 1 - i * 50);
    stages.push(
      stage(
        `S${i}`,
        Array.from({ length: n }, (_, j) => approval(`A${j}`)),
      ),
    );
  }
  return pipeline({ stages: [stage("Source", [gitSource()]), ...stages] });
}

describe("the quota: 500 actions per pipeline", () => {
  it("accepts 500 actions", () => {
    expectValid(withActions(500));
  });

  it("reports 501 actions as a limit", () => {
    expectIssues(withActions(501), [
      { path: "stages", message: "The pipeline has 501 actions; the limit is 500.", limit: true },
    ]);
  });
});
