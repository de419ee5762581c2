import { expectIssues, expectValid, pipeline } from "../__tests__/harness";

describe("pipeline variable values fit in a job", () => {
  it("accepts a default of 1000 characters", () => {
    expectValid(
      pipeline({ variables: [{ name: "Env", defaultValue: "x".repeat(1000), description: null }] }),
    );
  });

  it("reports a longer default at its path", () => {
    expectIssues(
      pipeline({
        variables: [
          { name: "Env", defaultValue: "ok", description: null },
          { name: "Notes", defaultValue: "x".repeat(1001), description: null },
        ],
      }),
      [
        {
          path: "variables[1].defaultValue",
          message: 'The default value of variable "Notes" is 1001 characters long; the limit is 1000.',
        },
      ],
    );
  });
});
