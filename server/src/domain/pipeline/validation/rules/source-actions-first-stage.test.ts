import {
  approval,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

describe("rule 3: no stage but the first holds a Source action", () => {
  it("accepts sources only in the first stage", () => {
    expectValid(
      pipeline({
        stages: [stage("Source", [gitSource()]), stage("Build", [shellBuild()]), stage("Gate", [approval()])],
      }),
    );
  });

  it("reports a Source action in a later stage at its category", () => {
    const late = gitSource("LateCheckout", { outputArtifacts: [{ name: "Other" }] });
    expectIssues(
      pipeline({ stages: [stage("Source", [gitSource()]), stage("Build", [shellBuild(), late])] }),
      [
        {
          path: "stages[1].actions[1].actionTypeId.category",
          message:
            'Source action "LateCheckout" is in stage "Build"; Source actions belong in the first stage ("Source").',
        },
      ],
    );
  });
});
