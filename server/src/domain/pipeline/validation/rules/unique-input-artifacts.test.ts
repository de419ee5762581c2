import { expectIssues, expectValid, gitSource, pipeline, shellBuild, stage } from "../__tests__/harness";

describe("an action lists each input artifact once", () => {
  it("accepts distinct inputs", () => {
    expectValid(
      pipeline({
        stages: [
          stage("Source", [gitSource(), gitSource("Tools", { outputArtifacts: [{ name: "ToolCode" }] })]),
          stage("Build", [
            shellBuild("Compile", { inputArtifacts: [{ name: "SourceCode" }, { name: "ToolCode" }] }),
          ]),
        ],
      }),
    );
  });

  it("reports the repeated input at its path", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [
            shellBuild("Compile", { inputArtifacts: [{ name: "SourceCode" }, { name: "SourceCode" }] }),
          ]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].inputArtifacts[1].name",
          message:
            'Input artifact "SourceCode" is listed twice by action "Compile" of stage "Build"; list each input artifact once.',
        },
      ],
    );
  });
});
