import { expectIssues, expectValid, gitSource, pipeline, shellBuild, stage } from "../__tests__/harness";

function gitWith(configuration: Record<string, string>) {
  const git = gitSource("Checkout", {
    configuration: { Repository: "https://git.example/a.git", Branch: "main", ...configuration },
  });
  return pipeline({ stages: [stage("Source", [git]), stage("Build", [shellBuild()])] });
}

describe("configuration values match their property type", () => {
  it("accepts a number, a boolean, and references", () => {
    expectValid(gitWith({ PollIntervalSeconds: "60", DetectChanges: "false" }));
    expectValid(gitWith({ PollIntervalSeconds: "#{codepipeline.PipelineExecutionId}" }));
  });

  it("reports a Number property that is not a number", () => {
    expectIssues(gitWith({ PollIntervalSeconds: "1m" }), [
      {
        path: "stages[0].actions[0].configuration.PollIntervalSeconds",
        message: 'PollIntervalSeconds of Source/Sluice/Git@1 is a number, but the value is "1m".',
      },
    ]);
  });

  it("reports a Boolean property that is not true or false", () => {
    expectIssues(gitWith({ DetectChanges: "yes" }), [
      {
        path: "stages[0].actions[0].configuration.DetectChanges",
        message: expect.stringMatching(/is "true" or "false", but the value is "yes"\.$/),
      },
    ]);
  });
});
