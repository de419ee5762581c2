import {
  approval,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

function withTimeouts(build: number | null, gate: number | null) {
  return pipeline({
    stages: [
      stage("Source", [gitSource()]),
      stage("Build", [
        shellBuild("Compile", { timeoutInMinutes: build }),
        approval("Gate", { runOrder: 2, timeoutInMinutes: gate }),
      ]),
    ],
  });
}

describe("timeoutInMinutes: 5 minutes up to 3 days, 7 days for approvals", () => {
  it("accepts the bounds", () => {
    expectValid(withTimeouts(5, 5));
    expectValid(withTimeouts(4320, 10080));
    expectValid(withTimeouts(null, null));
  });

  it.each([4, 4321, 60.5])("reports %d minutes on a Build action", (timeout) => {
    expectIssues(withTimeouts(timeout, null), [
      {
        path: "stages[1].actions[0].timeoutInMinutes",
        message: `timeoutInMinutes of action "Compile" must be a whole number from 5 to 4320 (3 days) for Build actions; it is ${timeout}.`,
      },
    ]);
  });

  it("reports more than 7 days on an approval", () => {
    expectIssues(withTimeouts(null, 10081), [
      {
        path: "stages[1].actions[1].timeoutInMinutes",
        message: expect.stringMatching(/from 5 to 10080 \(7 days\) for Approval actions; it is 10081\.$/),
      },
    ]);
  });
});
