import {
  action,
  actionType,
  approval,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

describe("rule 2: the first stage holds only Source actions", () => {
  it("accepts several sources in the first stage", () => {
    const upload = action("Upload", actionType("Source", "Upload"), {
      outputArtifacts: [{ name: "Uploaded" }],
    });
    expectValid(
      pipeline({ stages: [stage("Source", [gitSource(), upload]), stage("Build", [shellBuild()])] }),
    );
  });

  it("reports a non-Source action in the first stage at its category", () => {
    expectIssues(
      pipeline({ stages: [stage("Source", [gitSource(), approval()]), stage("Build", [shellBuild()])] }),
      [
        {
          path: "stages[0].actions[1].actionTypeId.category",
          message: expect.stringMatching(
            /^The first stage \("Source"\) may hold only Source actions, but action "Approve" is an Approval action/,
          ),
        },
      ],
    );
  });
});
