import { applyStageEdits, type StageEdit } from "./edits";
import { approval, gitSource, pipeline, shellBuild, stage } from "./validation/__tests__/harness";

const base = pipeline({
  stages: [
    stage("Source", [gitSource()]),
    stage("Build", [shellBuild(), approval("Gate", { runOrder: 2 })]),
    stage("Deploy", [approval("Ship")]),
  ],
});
const frozen = structuredClone(base);

function apply(...edits: StageEdit[]) {
  return applyStageEdits(base, edits);
}

function stagesOf(result: ReturnType<typeof apply>) {
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.document.stages.map((s) => `${s.name}[${s.actions.map((a) => a.name).join(",")}]`);
}

afterEach(() => {
  expect(base).toEqual(frozen); // never mutated
});

describe("applyStageEdits", () => {
  it("adds a stage at an index, parsing it with the document's defaults", () => {
    const check = {
      name: "Check",
      actionTypeId: { category: "Test", owner: "Sluice", provider: "Shell", version: "1" },
      inputArtifacts: [{ name: "SourceCode" }],
      configuration: { Commands: "lint" },
    };
    const result = apply({ addStage: { index: 1, stage: { name: "Lint", actions: [check] } } });
    expect(stagesOf(result)).toEqual([
      "Source[Checkout]",
      "Lint[Check]",
      "Build[Compile,Gate]",
      "Deploy[Ship]",
    ]);
    expect(result.ok && result.document.stages[1]!.actions[0]!.runOrder).toBe(1);
  });

  it("adds a stage at the end by default", () => {
    expect(stagesOf(apply({ addStage: { stage: { name: "Last", actions: [] } } }))).toEqual([
      "Source[Checkout]",
      "Build[Compile,Gate]",
      "Deploy[Ship]",
      "Last[]",
    ]);
  });

  it("removes, renames and moves stages, in order", () => {
    const result = apply(
      { removeStage: { name: "Deploy" } },
      { renameStage: { name: "Build", newName: "Compile" } },
      { moveStage: { name: "Compile", index: 0 } },
    );
    expect(stagesOf(result)).toEqual(["Compile[Compile,Gate]", "Source[Checkout]"]);
  });

  it("adds, replaces and removes actions", () => {
    const result = apply(
      {
        addAction: {
          stageName: "Deploy",
          action: {
            name: "Notify",
            actionTypeId: { category: "Invoke", owner: "Sluice", provider: "Webhook", version: "1" },
            configuration: { Url: "https://x" },
          },
        },
      },
      {
        updateAction: {
          stageName: "Build",
          actionName: "Gate",
          action: {
            name: "Review",
            actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
            runOrder: 3,
          },
        },
      },
      { removeAction: { stageName: "Deploy", actionName: "Ship" } },
    );
    expect(stagesOf(result)).toEqual(["Source[Checkout]", "Build[Compile,Review]", "Deploy[Notify]"]);
    expect(result.ok && result.document.stages[1]!.actions[1]!.runOrder).toBe(3);
  });

  it("reports an edit with no variant or several", () => {
    expect(
      apply(
        {},
        { removeStage: { name: "Deploy" }, renameStage: { name: "Build", newName: "B" } },
        { removeStage: null, removeAction: { stageName: "Build", actionName: "Gate" } },
      ),
    ).toEqual({
      ok: false,
      issues: [
        {
          path: "edits[0]",
          message: expect.stringMatching(/^An edit sets exactly one of addStage, .*; none is set\.$/),
        },
        { path: "edits[1]", message: expect.stringMatching(/; removeStage and renameStage are set\.$/) },
      ],
    });
  });

  it("reports missing stages and actions at the name, listing what exists", () => {
    expect(
      apply(
        { removeStage: { name: "Test" } },
        { renameStage: { name: "Test", newName: "X" } },
        { moveStage: { name: "Test", index: 0 } },
        {
          addAction: {
            stageName: "Test",
            action: {
              name: "A",
              actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
            },
          },
        },
        {
          updateAction: {
            stageName: "Build",
            actionName: "Nope",
            action: {
              name: "A",
              actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
            },
          },
        },
        { removeAction: { stageName: "Build", actionName: "Nope" } },
      ),
    ).toEqual({
      ok: false,
      issues: [
        {
          path: "edits[0].removeStage.name",
          message: 'No stage is named "Test"; the stages are "Source", "Build", "Deploy".',
        },
        { path: "edits[1].renameStage.name", message: expect.stringMatching(/^No stage is named "Test"/) },
        { path: "edits[2].moveStage.name", message: expect.stringMatching(/^No stage is named "Test"/) },
        { path: "edits[3].addAction.stageName", message: expect.stringMatching(/^No stage is named "Test"/) },
        {
          path: "edits[4].updateAction.actionName",
          message: 'Stage "Build" has no action named "Nope"; its actions are "Compile", "Gate".',
        },
        {
          path: "edits[5].removeAction.actionName",
          message: expect.stringMatching(/^Stage "Build" has no action named "Nope"/),
        },
      ],
    });
  });

  it("reports names already taken and bad indices", () => {
    expect(
      apply(
        { addStage: { index: 9, stage: { name: "Build", actions: [] } } },
        { renameStage: { name: "Deploy", newName: "Build" } },
        { moveStage: { name: "Deploy", index: 3 } },
        {
          addAction: {
            stageName: "Build",
            action: {
              name: "Gate",
              actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
            },
          },
        },
        {
          updateAction: {
            stageName: "Build",
            actionName: "Gate",
            action: {
              name: "Compile",
              actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
            },
          },
        },
      ),
    ).toEqual({
      ok: false,
      issues: [
        {
          path: "edits[0].addStage.index",
          message: "A new stage goes at an index from 0 to 3; 9 is not one.",
        },
        {
          path: "edits[0].addStage.stage.name",
          message: 'A stage named "Build" already exists; stage names must be unique.',
        },
        {
          path: "edits[1].renameStage.newName",
          message: expect.stringMatching(/^A stage named "Build" already exists/),
        },
        {
          path: "edits[2].moveStage.index",
          message: "A moved stage goes at an index from 0 to 2; 3 is not one.",
        },
        {
          path: "edits[3].addAction.action.name",
          message:
            'Stage "Build" already has an action named "Gate"; action names must be unique in a stage.',
        },
        {
          path: "edits[4].updateAction.action.name",
          message: expect.stringMatching(/already has an action named "Compile"/),
        },
      ],
    });
  });

  it("reports a malformed stage or action with paths inside the edit", () => {
    expect(
      apply(
        { addStage: { stage: { name: "X", actions: [{ name: "A", runOrder: "1" }] } } },
        {
          updateAction: {
            stageName: "Build",
            actionName: "Gate",
            action: {
              name: "Gate",
              actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
              extra: 1,
            },
          },
        },
      ),
    ).toEqual({
      ok: false,
      issues: [
        { path: "edits[0].addStage.stage.actions[0].actionTypeId", message: "actionTypeId is required." },
        {
          path: "edits[0].addStage.stage.actions[0].runOrder",
          message: 'runOrder must be an integer from 1 to 999; got "1".',
        },
        {
          path: "edits[1].updateAction.action.extra",
          message: expect.stringMatching(
            /^Unknown key "extra"\. The allowed keys here are name, actionTypeId/,
          ),
        },
      ],
    });
  });

  it("skips a failed edit and still applies and checks the following ones", () => {
    const result = apply(
      { removeStage: { name: "Nope" } },
      { removeStage: { name: "Deploy" } },
      { removeStage: { name: "Deploy" } },
    );
    expect(result).toEqual({
      ok: false,
      issues: [
        { path: "edits[0].removeStage.name", message: expect.any(String) },
        {
          path: "edits[2].removeStage.name",
          message: 'No stage is named "Deploy"; the stages are "Source", "Build".',
        },
      ],
    });
  });

  it("returns an unchanged copy for no edits", () => {
    const result = apply();
    expect(result).toEqual({ ok: true, document: base });
    expect(result.ok && result.document).not.toBe(base);
  });
});
