import {
  approval,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";
import type { PipelineDocument } from "../../document";

/** Source [Checkout ns Src], Build [Compile ns Build @1, Package @2 with `commands`]. */
function withCommands(commands: string, overrides: Partial<PipelineDocument> = {}) {
  return pipeline({
    variables: [{ name: "Env", defaultValue: "staging", description: null }],
    stages: [
      stage("Source", [gitSource("Checkout", { namespace: "Src" })]),
      stage("Build", [
        shellBuild("Compile", { runOrder: 1, namespace: "Build" }),
        shellBuild("Package", { runOrder: 2, configuration: { Commands: commands } }),
        approval("Gate", { runOrder: 2, namespace: "Gate" }),
      ]),
    ],
    ...overrides,
  });
}

const at = "stages[1].actions[1].configuration.Commands";

describe("rule 11: variable references resolve to something earlier", () => {
  it("accepts earlier namespaces, declared variables and the execution id", () => {
    expectValid(
      withCommands(
        "deploy #{Src.CommitId} #{Build.Version} #{variables.Env} #{codepipeline.PipelineExecutionId}",
      ),
    );
  });

  it("reports a namespace nobody declares", () => {
    expectIssues(withCommands("echo #{Nowhere.X}"), [
      { path: at, message: '"#{Nowhere.X}" names namespace "Nowhere", which no action declares.' },
    ]);
  });

  it("reports a namespace of an action with the same runOrder", () => {
    expectIssues(withCommands("echo #{Gate.Y}"), [
      {
        path: at,
        message:
          '"#{Gate.Y}" names namespace "Gate" of action "Gate" of stage "Build", which does not run before action "Package" of stage "Build".',
      },
    ]);
  });

  it("reports the action's own namespace", () => {
    const doc = withCommands("echo");
    const build = doc.stages[1]!.actions[0]!;
    build.configuration = { Commands: "echo #{Build.Version}" };
    expectIssues(doc, [
      {
        path: "stages[1].actions[0].configuration.Commands",
        message: expect.stringMatching(/names the namespace of action "Compile" of stage "Build" itself/),
      },
    ]);
  });

  it("reports an undeclared pipeline variable", () => {
    expectIssues(withCommands("echo #{variables.Region}"), [
      {
        path: at,
        message:
          '"#{variables.Region}" names pipeline variable "Region", which is not declared; the declared variables are Env.',
      },
    ]);
    expectIssues(withCommands("echo #{variables.Region}", { variables: [] }), [
      {
        path: at,
        message:
          '"#{variables.Region}" names pipeline variable "Region", but the pipeline declares no variables.',
      },
    ]);
  });

  it("reports an unknown execution variable", () => {
    expectIssues(withCommands("echo #{codepipeline.PipelineName}"), [
      {
        path: at,
        message:
          '"#{codepipeline.PipelineName}" names no execution variable; the execution variables are PipelineExecutionId.',
      },
    ]);
  });

  it.each(["#{Src}", "#{}", "#{Src.Commit.Id}", "#{Src.Commit", "#{ Src.CommitId }"])(
    "reports the malformed %s",
    (text) => {
      expectIssues(withCommands(`echo ${text}`), [
        {
          path: at,
          message: expect.stringMatching(/is not a variable reference; write #\{Namespace\.Variable\}/),
        },
      ]);
    },
  );
});
