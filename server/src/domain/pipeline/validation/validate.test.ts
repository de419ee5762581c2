import { builtinRegistry } from "../../action-types/builtins";
import { exportPipelineDocument } from "../parse";
import { clone, gitSource, pipeline, shellBuild, stage, validate } from "./__tests__/harness";
import { validatePipeline } from "./validate";

describe("validatePipeline", () => {
  it("returns the normalized document when the input is valid", () => {
    const doc = pipeline();
    expect(validatePipeline(exportPipelineDocument(doc), builtinRegistry)).toEqual({
      ok: true,
      document: doc,
    });
  });

  it("reports shape problems only, when the shape is wrong (rules need a parsed document)", () => {
    const input = exportPipelineDocument(pipeline({ name: "bad name!" })) as { stages: { name: unknown }[] };
    input.stages[1]!.name = 7;
    expect(validate(input)).toEqual([{ path: "stages[1].name", message: "name must be a string; got 7." }]);
  });

  it("reports every rule's problems at once, in document order", () => {
    const doc = clone(pipeline({ name: "bad name!" }));
    doc.stages.push(
      stage("Build", [shellBuild("Compile", { runOrder: 0, inputArtifacts: [{ name: "Nope" }] })]),
    );
    doc.variables.push(
      { name: "Env", defaultValue: null, description: null },
      { name: "Env", defaultValue: null, description: null },
    );
    expect(validate(doc).map((issue) => issue.path)).toEqual([
      "name",
      "variables[1].name",
      "stages[2].name",
      "stages[2].actions[0].runOrder",
      "stages[2].actions[0].inputArtifacts[0].name",
    ]);
  });

  it("reports the size limit together with the rules' problems", () => {
    const doc = pipeline({
      stages: [
        stage("Source", [gitSource()]),
        stage("Build", [
          shellBuild("Compile", { runOrder: 0, awsMetadata: { blob: "x".repeat(101 * 1024) } }),
        ]),
      ],
    });
    expect(validate(doc)).toEqual([
      { path: "", message: expect.stringMatching(/limit is 100 KB/), limit: true },
      { path: "stages[1].actions[0].runOrder", message: expect.stringMatching(/^runOrder must be/) },
    ]);
  });

  it("reports an issue found twice once", () => {
    const doc = pipeline({
      stages: [
        stage("Source", [gitSource()]),
        stage("Build", [
          shellBuild("Compile", { configuration: { Commands: "a #{Nowhere.X} b #{Nowhere.X}" } }),
        ]),
      ],
    });
    expect(validate(doc)).toEqual([
      {
        path: "stages[1].actions[0].configuration.Commands",
        message: '"#{Nowhere.X}" names namespace "Nowhere", which no action declares.',
      },
    ]);
  });

  it("runs only the rules it is given", () => {
    expect(
      validatePipeline(exportPipelineDocument(pipeline({ name: "bad name!" })), builtinRegistry, {
        rules: [],
      }),
    ).toEqual({
      ok: true,
      document: pipeline({ name: "bad name!" }),
    });
  });
});
