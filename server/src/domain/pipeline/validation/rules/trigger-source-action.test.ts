import type { PipelineTrigger } from "../../document";
import {
  action,
  actionType,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

const trigger = (sourceActionName: string): PipelineTrigger => ({
  providerType: "Git",
  gitConfiguration: {
    sourceActionName,
    push: [{ branches: { includes: ["main"], excludes: [] }, filePaths: null, tags: null }],
  },
});

const upload = action("Upload", actionType("Source", "Upload"), { outputArtifacts: [{ name: "Uploaded" }] });
const withTriggers = (...triggers: PipelineTrigger[]) =>
  pipeline({ triggers, stages: [stage("Source", [gitSource(), upload]), stage("Build", [shellBuild()])] });

describe("triggers name a Git source action of the first stage", () => {
  it("accepts a trigger on the Git source", () => {
    expectValid(withTriggers(trigger("Checkout")));
  });

  it("reports a name that is no source action", () => {
    expectIssues(withTriggers(trigger("Compile")), [
      {
        path: "triggers[0].gitConfiguration.sourceActionName",
        message:
          'sourceActionName "Compile" names no action of the first stage; the Git source actions are "Checkout".',
      },
    ]);
  });

  it("reports a source action that is not Git", () => {
    expectIssues(withTriggers(trigger("Upload")), [
      {
        path: "triggers[0].gitConfiguration.sourceActionName",
        message: expect.stringMatching(
          /names a Source\/Sluice\/Upload@1 action; triggers filter pushes to a Git source/,
        ),
      },
    ]);
  });

  it("reports a second trigger for the same source", () => {
    expectIssues(withTriggers(trigger("Checkout"), trigger("Checkout")), [
      {
        path: "triggers[1].gitConfiguration.sourceActionName",
        message:
          'triggers[0] already configures source action "Checkout"; put all its push filters in one trigger.',
      },
    ]);
  });
});
