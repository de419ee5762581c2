import { CREATE, DOCUMENT, simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const EDIT = `mutation ($name: String!, $v: Int!, $edits: [StageEditInput!]!) {
  editStages(pipelineName: $name, expectedVersion: $v, edits: $edits) { version stages { name actions { name } } } }`;

const deploy = (name: string) => ({
  name,
  actionTypeId: { category: "Deploy", owner: "Sluice", provider: "Shell", version: "1" },
  configuration: { Commands: "./deploy.sh" },
  inputArtifacts: [{ name: "BuildOutput" }],
});

it("applies an ordered list of edits atomically as one new version", async () => {
  dataOf(await t.gql(CREATE, { input: simplePipeline("edited") }));
  const result = dataOf(
    await t.gql(EDIT, {
      name: "edited",
      v: 1,
      edits: [
        { addStage: { stage: { name: "Staging", actions: [deploy("DeployStaging")] } } },
        { addStage: { index: 3, stage: { name: "Prod", actions: [deploy("DeployProd")] } } },
        { renameStage: { name: "Staging", newName: "Beta" } },
        { addAction: { stageName: "Beta", action: { ...deploy("Smoke"), runOrder: 2 } } },
        {
          updateAction: {
            stageName: "Beta",
            actionName: "Smoke",
            action: { ...deploy("SmokeTest"), runOrder: 3 },
          },
        },
        { moveStage: { name: "Prod", index: 2 } },
        { moveStage: { name: "Prod", index: 3 } },
        { removeAction: { stageName: "Beta", actionName: "SmokeTest" } },
      ],
    }),
  ).editStages;
  expect(result.version).toBe(2);
  expect(result.stages.map((s: any) => [s.name, s.actions.map((a: any) => a.name)])).toEqual([
    ["Source", ["Checkout"]],
    ["Build", ["Compile"]],
    ["Beta", ["DeployStaging"]],
    ["Prod", ["DeployProd"]],
  ]);
  const versions = dataOf(await t.gql(`{ pipeline(name: "edited") { versions { nodes { version } } } }`));
  expect(versions.pipeline.versions.nodes).toEqual([{ version: 2 }, { version: 1 }]);
});

it("rejects the whole list when one edit is invalid, naming the edit, and changes nothing", async () => {
  dataOf(await t.gql(CREATE, { input: simplePipeline("atomic") }));
  const response = await t.gql(EDIT, {
    name: "atomic",
    v: 1,
    edits: [
      { addStage: { stage: { name: "Staging", actions: [deploy("DeployStaging")] } } },
      { removeStage: { name: "NoSuchStage" } },
    ],
  });
  expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(response.errors?.[0]?.extensions?.validationErrors[0].path).toMatch(/^edits\[1\]/);
  expect(dataOf(await t.gql(DOCUMENT, { name: "atomic" })).pipeline).toMatchObject({
    version: 1,
    document: simplePipeline("atomic"),
  });
});

it("validates the edited document as a whole", async () => {
  dataOf(await t.gql(CREATE, { input: simplePipeline("whole") }));
  // Removing the Build stage leaves only the source stage, which breaks rule 1 (at least 2 stages).
  const response = await t.gql(EDIT, { name: "whole", v: 1, edits: [{ removeStage: { name: "Build" } }] });
  expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(response.errors?.[0]?.extensions?.validationErrors.map((e: any) => e.path)).toContain("stages");
});

it("answers CONFLICT on a stale expectedVersion and NOT_FOUND for an unknown pipeline", async () => {
  dataOf(await t.gql(CREATE, { input: simplePipeline("stale") }));
  const edits = [{ renameStage: { name: "Build", newName: "Compile" } }];
  expect((await t.gql(EDIT, { name: "stale", v: 7, edits })).errors?.[0]?.extensions?.code).toBe("CONFLICT");
  expect((await t.gql(EDIT, { name: "missing", v: 1, edits })).errors?.[0]?.extensions?.code).toBe(
    "NOT_FOUND",
  );
});
