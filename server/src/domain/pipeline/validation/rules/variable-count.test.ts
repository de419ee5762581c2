import { expectIssues, expectValid, pipeline } from "../__tests__/harness";

const variables = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ name: `V${i}`, defaultValue: null, description: null }));

describe("the quota: 50 pipeline variables", () => {
  it("accepts 50 variables", () => {
    expectValid(pipeline({ variables: variables(50) }));
  });

  it("reports 51 variables as a limit", () => {
    expectIssues(pipeline({ variables: variables(51) }), [
      { path: "variables", message: "The pipeline declares 51 variables; the limit is 50.", limit: true },
    ]);
  });
});
