/**
 * The editor's pure model (src/features/editor/draft.ts): pipeline variables and retry policies
 * through document → draft → document, the draft's own issues, and where the server's issues show.
 * No browser, no server.
 */
import {
  anchorOf,
  describeAnchor,
  emptyAction,
  emptyDraft,
  emptyVariable,
  toDocument,
  toDraft,
  type Draft,
} from "../src/features/editor/draft";

const GIT = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };
const SHELL = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" };
const DEPLOY = { category: "Deploy", owner: "Sluice", provider: "Shell", version: "1" };

/** A document as the server exports it (`pipeline { document }`): lists and runOrder always written. */
function storedDocument() {
  return {
    name: "with-variables",
    executionMode: "QUEUED",
    variables: [
      { name: "Env", defaultValue: "staging", description: "Where it goes" },
      { name: "Region" },
      { name: "Flag", description: "Only a description" },
    ],
    triggers: [{ providerType: "Git", gitConfiguration: { sourceActionName: "Checkout", push: [] } }],
    schedules: [{ cron: "0 6 * * 1-5", timezone: "Europe/Paris" }],
    stages: [
      {
        name: "Source",
        actions: [
          {
            name: "Checkout",
            actionTypeId: GIT,
            runOrder: 1,
            configuration: { Repository: "file:///repo", Branch: "main" },
            inputArtifacts: [],
            outputArtifacts: [{ name: "Src" }],
          },
        ],
      },
      {
        name: "Build",
        actions: [
          {
            name: "Compile",
            actionTypeId: SHELL,
            runOrder: 1,
            configuration: { Commands: "make #{variables.Env}" },
            inputArtifacts: [{ name: "Src" }],
            outputArtifacts: [],
            retryPolicy: { maxAttempts: 5, backoffSeconds: 30, on: ["FAILED", "AGENT_LOST"] },
          },
          {
            name: "Ship",
            actionTypeId: DEPLOY,
            runOrder: 2,
            configuration: { Commands: "ship" },
            inputArtifacts: [{ name: "Src" }],
            outputArtifacts: [],
            timeoutInMinutes: 15,
            retryPolicy: { maxAttempts: 2, backoffSeconds: 0, on: ["TIMED_OUT"] },
            awsMetadata: { kept: true },
          },
        ],
      },
    ],
  };
}

/** A draft with one Build stage holding one Shell action. */
function oneAction(): Draft {
  const draft = emptyDraft();
  draft.name = "p";
  draft.stages = [
    { key: "s", name: "Build", rest: {}, actions: [{ ...emptyAction(SHELL), name: "Compile" }] },
  ];
  return draft;
}

const RETRY = "stages[0].actions[0].retryPolicy";

describe("the editor's draft: variables", () => {
  it("reads variables into the draft in their order, each field as text", () => {
    const draft = toDraft(storedDocument());
    expect(
      draft.variables.map(({ name, defaultValue, description }) => ({ name, defaultValue, description })),
    ).toEqual([
      { name: "Env", defaultValue: "staging", description: "Where it goes" },
      { name: "Region", defaultValue: "", description: "" },
      { name: "Flag", defaultValue: "", description: "Only a description" },
    ]);
    expect(new Set(draft.variables.map((v) => v.key)).size).toBe(3);
    expect(draft.rest).not.toHaveProperty("variables");
  });

  it("writes blank optional fields out, trims names and descriptions, keeps a default value as typed", () => {
    const draft = oneAction();
    draft.variables = [
      { ...emptyVariable(), name: " Env ", defaultValue: " padded ", description: "  " },
      { ...emptyVariable(), name: "Empty", defaultValue: "   ", description: " said " },
      { ...emptyVariable(), name: "Bare" },
    ];
    const { document, issues } = toDocument(draft);
    expect(issues).toEqual([]);
    expect(document.variables).toStrictEqual([
      { name: "Env", defaultValue: " padded " },
      { name: "Empty", description: "said" },
      { name: "Bare" },
    ]);
  });

  it("writes an empty list when there is none, and reads a document without variables", () => {
    expect(toDocument(oneAction()).document.variables).toEqual([]);
    const { variables, ...withoutVariables } = storedDocument();
    expect(variables).toHaveLength(3);
    expect(toDraft(withoutVariables).variables).toEqual([]);
    expect(toDraft({ ...withoutVariables, variables: null }).variables).toEqual([]);
  });

  it("refuses variables that are not a list of objects, with a sentence", () => {
    expect(() => toDraft({ ...storedDocument(), variables: "Env" })).toThrow("`variables` must be a list.");
    expect(() => toDraft({ ...storedDocument(), variables: ["Env"] })).toThrow(
      "variables[0] must be an object.",
    );
  });
});

describe("the editor's draft: retry policies", () => {
  it("reads a retryPolicy as a custom one, and none (absent or null) as the default", () => {
    const draft = toDraft(storedDocument());
    const [compile, ship] = draft.stages[1]!.actions;
    expect(compile!.retry).toEqual({
      custom: true,
      maxAttempts: "5",
      backoffSeconds: "30",
      on: ["FAILED", "AGENT_LOST"],
    });
    expect(compile!.rest).not.toHaveProperty("retryPolicy");
    expect(ship!.retry.custom).toBe(true);
    expect(draft.stages[0]!.actions[0]!.retry.custom).toBe(false);
    const withNull = storedDocument();
    (withNull.stages[1]!.actions[0] as Record<string, unknown>).retryPolicy = null;
    expect(toDraft(withNull).stages[1]!.actions[0]!.retry.custom).toBe(false);
    const written = (toDocument(toDraft(withNull)).document.stages as any)[1].actions[0];
    expect(written).not.toHaveProperty("retryPolicy");
  });

  it("writes a custom policy with numbers, and leaves a blank backoff out (the server's default, 0)", () => {
    const draft = oneAction();
    draft.stages[0]!.actions[0]!.retry = {
      custom: true,
      maxAttempts: " 4 ",
      backoffSeconds: "",
      on: ["FAILED"],
    };
    const { document, issues } = toDocument(draft);
    expect(issues).toEqual([]);
    expect((document.stages as any)[0].actions[0].retryPolicy).toStrictEqual({
      maxAttempts: 4,
      on: ["FAILED"],
    });
  });

  it("drops the retryPolicy when custom goes back to default, and finds the values again on custom", () => {
    const draft = toDraft(storedDocument());
    const compile = draft.stages[1]!.actions[0]!;
    compile.retry.custom = false;
    const action = (toDocument(draft).document.stages as any)[1].actions[0];
    expect(action).not.toHaveProperty("retryPolicy");
    expect(action.name).toBe("Compile");
    compile.retry.custom = true;
    expect((toDocument(draft).document.stages as any)[1].actions[0].retryPolicy).toEqual({
      maxAttempts: 5,
      backoffSeconds: 30,
      on: ["FAILED", "AGENT_LOST"],
    });
  });

  it("has no retryPolicy on a new action until one is made custom", () => {
    const draft = oneAction();
    expect((toDocument(draft).document.stages as any)[0].actions[0]).not.toHaveProperty("retryPolicy");
    draft.stages[0]!.actions[0]!.retry.custom = true;
    expect((toDocument(draft).document.stages as any)[0].actions[0].retryPolicy).toEqual({
      maxAttempts: 3,
      backoffSeconds: 0,
      on: ["AGENT_LOST"],
    });
  });

  it("gives the draft's own issue at its path for attempts or backoff that are not whole numbers", () => {
    const draft = oneAction();
    draft.stages[0]!.actions[0]!.retry = {
      custom: true,
      maxAttempts: "three",
      backoffSeconds: "1.5",
      on: [],
    };
    expect(toDocument(draft).issues).toEqual([
      { path: `${RETRY}.maxAttempts`, message: "The number of attempts must be a whole number." },
      { path: `${RETRY}.backoffSeconds`, message: "The wait between attempts must be a whole number." },
    ]);
    draft.stages[0]!.actions[0]!.retry.maxAttempts = "";
    draft.stages[0]!.actions[0]!.retry.backoffSeconds = "0";
    expect(toDocument(draft).issues).toEqual([
      { path: `${RETRY}.maxAttempts`, message: "A custom retry policy needs a number of attempts." },
    ]);
    // Out of range is the server's to judge: the number goes as typed.
    draft.stages[0]!.actions[0]!.retry.maxAttempts = "11";
    const { document, issues } = toDocument(draft);
    expect(issues).toEqual([]);
    expect((document.stages as any)[0].actions[0].retryPolicy.maxAttempts).toBe(11);
  });

  it("takes no issue from attempts that are not numbers while the policy is the default", () => {
    const draft = oneAction();
    draft.stages[0]!.actions[0]!.retry = { custom: false, maxAttempts: "x", backoffSeconds: "y", on: [] };
    expect(toDocument(draft).issues).toEqual([]);
  });

  it("refuses a retryPolicy that is not an object, or causes that are not a list", () => {
    const bad = storedDocument();
    (bad.stages[1]!.actions[0] as Record<string, unknown>).retryPolicy = "always";
    expect(() => toDraft(bad)).toThrow("stages[1].actions[0].retryPolicy must be an object or null.");
    (bad.stages[1]!.actions[0] as Record<string, unknown>).retryPolicy = { maxAttempts: 2, on: "FAILED" };
    expect(() => toDraft(bad)).toThrow("stages[1].actions[0].retryPolicy.on must be a list.");
  });
});

describe("the editor's draft: round trip", () => {
  it("gives back the stored document unchanged: variables, retry policies and everything else", () => {
    const { document, issues } = toDocument(toDraft(storedDocument()));
    expect(issues).toEqual([]);
    expect(document).toStrictEqual(storedDocument());
  });

  it("is stable through the JSON view (document → draft → document → draft → document)", () => {
    const once = toDocument(toDraft(storedDocument())).document;
    const twice = toDocument(toDraft(JSON.parse(JSON.stringify(once)))).document;
    expect(twice).toStrictEqual(once);
  });
});

describe("where an issue shows", () => {
  const draft = (() => {
    const d = toDraft(storedDocument());
    d.stages[1]!.actions[1]!.retry.custom = false; // Ship: the default policy on screen
    return d;
  })();

  it.each([
    ["variables", "variables"],
    ["variables[1].name", "variables[1].name"],
    ["variables[0].defaultValue", "variables[0].defaultValue"],
    ["variables[2].description", "variables[2].description"],
    ["variables[0]", "variables"],
    ["variables[0].other", "variables"],
    ["variables[7].name", "variables"],
    ["stages[1].actions[0].retryPolicy", "stages[1].actions[0].retryPolicy"],
    ["stages[1].actions[0].retryPolicy.maxAttempts", "stages[1].actions[0].retryPolicy.maxAttempts"],
    ["stages[1].actions[0].retryPolicy.backoffSeconds", "stages[1].actions[0].retryPolicy.backoffSeconds"],
    ["stages[1].actions[0].retryPolicy.on", "stages[1].actions[0].retryPolicy.on"],
    ["stages[1].actions[0].retryPolicy.on[1]", "stages[1].actions[0].retryPolicy.on"],
    ["stages[1].actions[0].retryPolicy.other", "stages[1].actions[0].retryPolicy"],
    // Not custom on screen: the whole control.
    ["stages[1].actions[1].retryPolicy.maxAttempts", "stages[1].actions[1].retryPolicy"],
  ])("%s shows at %s", (path, anchor) => {
    expect(anchorOf(path, draft)).toBe(anchor);
  });

  it("names the field in words in the summary", () => {
    expect(describeAnchor("variables", draft)).toBe("Variables");
    expect(describeAnchor("variables[1].defaultValue", draft)).toBe("Variable 2 › Default value");
    expect(describeAnchor("stages[1].actions[0].retryPolicy.maxAttempts", draft)).toBe(
      "Stage Build › action Compile › Retry policy › Attempts",
    );
    expect(describeAnchor("stages[1].actions[0].retryPolicy", draft)).toBe(
      "Stage Build › action Compile › Retry policy",
    );
    // Unchanged for the rest.
    expect(describeAnchor("stages[1].actions[0].configuration.Commands", draft)).toBe(
      "Stage Build › action Compile › Commands",
    );
  });
});
