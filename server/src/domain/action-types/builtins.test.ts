import { BUILTIN_ACTION_TYPES, builtinRegistry, createRegistry } from "./builtins";
import { actionTypeKey, type ActionTypeDefinition } from "./action-type";

const summary = (t: ActionTypeDefinition) => ({
  type: actionTypeKey(t.id),
  in: `${t.inputArtifactDetails.minimumCount}-${t.inputArtifactDetails.maximumCount}`,
  out: `${t.outputArtifactDetails.minimumCount}-${t.outputArtifactDetails.maximumCount}`,
  config: t.configurationProperties.map(
    (p) => `${p.name}${p.required ? "*" : ""}${p.secret ? " (secret)" : ""}`,
  ),
});

const helm: ActionTypeDefinition = {
  id: { category: "Deploy", owner: "Custom", provider: "Helm", version: "1" },
  description: null,
  configurationProperties: [],
  inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
  outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
  settings: {
    entityUrlTemplate: null,
    executionUrlTemplate: null,
    revisionUrlTemplate: null,
    thirdPartyConfigurationUrl: null,
  },
};

describe("built-in action types (PIPELINE-MODEL.md's table)", () => {
  it("declares the table's types, bounds and configuration", () => {
    expect(BUILTIN_ACTION_TYPES.map(summary)).toEqual([
      {
        type: "Source/Sluice/Git@1",
        in: "0-0",
        out: "1-1",
        config: ["Repository*", "Branch*", "DetectChanges", "PollIntervalSeconds"],
      },
      { type: "Source/Sluice/Upload@1", in: "0-0", out: "1-1", config: [] },
      {
        type: "Build/Sluice/Shell@1",
        in: "1-5",
        out: "0-5",
        config: ["Commands*", "EnvironmentVariables", "OutputFiles"],
      },
      {
        type: "Test/Sluice/Shell@1",
        in: "1-5",
        out: "0-5",
        config: ["Commands*", "EnvironmentVariables", "ReportFiles", "OutputFiles"],
      },
      { type: "Deploy/Sluice/Shell@1", in: "1-5", out: "0-5", config: ["Commands*", "EnvironmentVariables"] },
      {
        type: "Approval/Sluice/Manual@1",
        in: "0-0",
        out: "0-0",
        config: ["CustomData", "ExternalEntityLink"],
      },
      {
        type: "Invoke/Sluice/Webhook@1",
        in: "0-5",
        out: "0-0",
        config: ["Url*", "Method", "Headers", "Secret (secret)"],
      },
    ]);
  });

  it("describes every property and types DetectChanges and PollIntervalSeconds", () => {
    for (const type of BUILTIN_ACTION_TYPES) {
      for (const property of type.configurationProperties) expect(property.description).toMatch(/\.$/);
    }
    const git = BUILTIN_ACTION_TYPES[0]!.configurationProperties;
    expect(git.map((p) => p.type)).toEqual(["String", "String", "Boolean", "Number"]);
  });
});

describe("createRegistry", () => {
  it("finds built-ins and custom types by id", () => {
    const registry = createRegistry([helm]);
    expect(registry.find({ category: "Deploy", owner: "Custom", provider: "Helm", version: "1" })).toBe(helm);
    expect(
      registry.find({ category: "Build", owner: "Sluice", provider: "Shell", version: "1" })?.id.provider,
    ).toBe("Shell");
    expect(
      registry.find({ category: "Build", owner: "Sluice", provider: "Shell", version: "2" }),
    ).toBeUndefined();
    expect(registry.all()).toHaveLength(BUILTIN_ACTION_TYPES.length + 1);
    expect(builtinRegistry.find(helm.id)).toBeUndefined();
  });

  it("never lets a custom list shadow a built-in", () => {
    const impostor = {
      ...helm,
      id: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
    } as const;
    const registry = createRegistry([impostor]);
    expect(registry.find(impostor.id)).toBe(BUILTIN_ACTION_TYPES[2]);
    expect(registry.all()).toHaveLength(BUILTIN_ACTION_TYPES.length);
  });
});
