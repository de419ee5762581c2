import * as limits from "./limits";

describe("limits (PIPELINE-MODEL.md's quota table)", () => {
  it("holds the table's numbers", () => {
    expect(limits).toMatchObject({
      MIN_STAGES_PER_PIPELINE: 2,
      MAX_STAGES_PER_PIPELINE: 50,
      MAX_ACTIONS_PER_STAGE: 50,
      MAX_PARALLEL_ACTIONS_PER_STAGE: 50,
      MAX_ACTIONS_PER_PIPELINE: 500,
      MAX_PIPELINE_VARIABLES: 50,
      MAX_CUSTOM_ARTIFACTS_PER_ACTION: 5,
      MAX_CUSTOM_ACTION_TYPES: 50,
      MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES: 10,
      MAX_PIPELINE_DOCUMENT_BYTES: 102_400,
      MAX_APPROVAL_TIMEOUT_MINUTES: 10_080,
      DEFAULT_ACTION_TIMEOUT_MINUTES: 480,
      DEFAULT_CUSTOM_ACTION_TIMEOUT_MINUTES: 1_440,
      DEFAULT_EXECUTION_HISTORY_MONTHS: 12,
      DEFAULT_MAX_PIPELINES: 1_000,
    });
  });

  it("gives default and maximum timeouts by category and owner", () => {
    expect(limits.defaultTimeoutInMinutes({ category: "Build", owner: "Sluice" })).toBe(480);
    expect(limits.defaultTimeoutInMinutes({ category: "Source", owner: "Sluice" })).toBe(480);
    expect(limits.defaultTimeoutInMinutes({ category: "Deploy", owner: "Custom" })).toBe(1_440);
    expect(limits.defaultTimeoutInMinutes({ category: "Approval", owner: "Sluice" })).toBe(10_080);
    expect(limits.maxTimeoutInMinutes("Approval")).toBe(10_080);
    expect(limits.maxTimeoutInMinutes("Invoke")).toBe(4_320);
  });
});
