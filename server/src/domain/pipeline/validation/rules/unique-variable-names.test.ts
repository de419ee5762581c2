import { expectIssues, expectValid, pipeline } from "../__tests__/harness";

const variable = (name: string) => ({ name, defaultValue: null, description: null });

describe("pipeline variable names are unique", () => {
  it("accepts distinct names", () => {
    expectValid(pipeline({ variables: [variable("Env"), variable("Region")] }));
  });

  it("reports the repeated name", () => {
    expectIssues(pipeline({ variables: [variable("Env"), variable("Region"), variable("Env")] }), [
      {
        path: "variables[2].name",
        message: 'Variable name "Env" is already declared by variables[0]; variable names must be unique.',
      },
    ]);
  });
});
