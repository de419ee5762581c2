import { expectIssues, expectValid, gitSource, pipeline, shellBuild, stage } from "../__tests__/harness";

describe("rule 8: input artifacts are produced by an action that runs earlier", () => {
  it("accepts an artifact from an earlier stage and from a lower runOrder in the same stage", () => {
    expectValid(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [
            shellBuild("Compile", { runOrder: 1, outputArtifacts: [{ name: "App" }] }),
            shellBuild("Package", { runOrder: 5, inputArtifacts: [{ name: "App" }, { name: "SourceCode" }] }),
          ]),
        ],
      }),
    );
  });

  it("reports an artifact nobody produces", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [shellBuild("Compile", { inputArtifacts: [{ name: "Nope" }] })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].inputArtifacts[0].name",
          message:
            'Input artifact "Nope" of action "Compile" of stage "Build" is not produced by any action; name an output artifact of an earlier action.',
        },
      ],
    );
  });

  it("reports an artifact of an action with the same runOrder (they run at the same time)", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [
            shellBuild("Compile", { runOrder: 2, outputArtifacts: [{ name: "App" }] }),
            shellBuild("Package", { runOrder: 2, inputArtifacts: [{ name: "App" }] }),
          ]),
        ],
      }),
      [
        {
          path: "stages[1].actions[1].inputArtifacts[0].name",
          message: expect.stringMatching(/runs at the same time \(same runOrder 2\)/),
        },
      ],
    );
  });

  it("reports an artifact of a later stage", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Test", [shellBuild("Check", { inputArtifacts: [{ name: "App" }] })]),
          stage("Build", [shellBuild("Compile", { outputArtifacts: [{ name: "App" }] })]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].inputArtifacts[0].name",
          message: expect.stringMatching(
            /is produced by action "Compile" of stage "Build", which does not run before it/,
          ),
        },
      ],
    );
  });

  it("reports an action consuming its own output", () => {
    expectIssues(
      pipeline({
        stages: [
          stage("Source", [gitSource()]),
          stage("Build", [
            shellBuild("Compile", { inputArtifacts: [{ name: "App" }], outputArtifacts: [{ name: "App" }] }),
          ]),
        ],
      }),
      [
        {
          path: "stages[1].actions[0].inputArtifacts[0].name",
          message: expect.stringMatching(/is its own output; an action cannot consume/),
        },
      ],
    );
  });
});
