import { expectIssues, expectValid, gitSource, pipeline, shellBuild, stage } from "../__tests__/harness";

describe("rule 5: namespaces are unique and differ from artifact names", () => {
  it("accepts distinct namespaces", () => {
    expectValid(
      pipeline({
        stages: [
          stage("Source", [gitSource("Checkout", { namespace: "SourceVariables" })]),
          stage("Build", [shellBuild("Compile", { namespace: "BuildVariables" })]),
        ],
      }),
    );
  });

  it("reports a repeated namespace", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource("Checkout", { namespace: "Vars" })]),
          stage("Build", [shellBuild("Compile", { namespace: "Vars" })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].namespace",
          message:
            'Namespace "Vars" is already declared by action "Checkout" of stage "Source"; namespaces must be unique in the pipeline.',
        },
      ],
    );
  });

  it("reports a namespace equal to an artifact name", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { namespace: "SourceCode" })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].namespace",
          message: expect.stringMatching(/^Namespace "SourceCode" is also the name of an artifact/),
        },
      ],
    );
  });
});
