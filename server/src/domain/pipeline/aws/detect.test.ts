import { detectDocumentFormat, type DocumentFormat } from "./detect";
import { fixture } from "./__tests__/harness";

const sluiceDocument = {
  name: "app",
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
        },
      ],
    },
    {
      name: "Deploy",
      actions: [
        {
          name: "Ship",
          actionTypeId: { category: "Deploy", owner: "Custom", provider: "Helm", version: "2" },
        },
      ],
    },
  ],
};

function withOwner(owner: string) {
  return {
    ...sluiceDocument,
    stages: [
      sluiceDocument.stages[0],
      {
        name: "Deploy",
        actions: [
          { name: "Ship", actionTypeId: { category: "Deploy", owner, provider: "S3", version: "1" } },
        ],
      },
    ],
  };
}

const table: [string, unknown, DocumentFormat][] = [
  ["get-pipeline output with its { pipeline, metadata } wrapper", fixture("v1-github-s3-lambda"), "AWS"],
  ["a wrapper without metadata", { pipeline: { name: "app", stages: [] } }, "AWS"],
  ["a declaration with roleArn", { ...sluiceDocument, roleArn: "arn:aws:iam::1:role/r" }, "AWS"],
  [
    "a declaration with artifactStore",
    { ...sluiceDocument, artifactStore: { type: "S3", location: "b" } },
    "AWS",
  ],
  ["a declaration with artifactStores", { ...sluiceDocument, artifactStores: {} }, "AWS"],
  ["a declaration with pipelineType", { ...sluiceDocument, pipelineType: "V1" }, "AWS"],
  ["a declaration with a numeric version", { ...sluiceDocument, version: 3 }, "AWS"],
  ["an action owned by AWS", withOwner("AWS"), "AWS"],
  ["an action owned by ThirdParty", withOwner("ThirdParty"), "AWS"],
  ["a Sluice document (owners Sluice and Custom)", sluiceDocument, "SLUICE"],
  [
    "a Sluice document whose awsMetadata holds AWS fields",
    { ...sluiceDocument, awsMetadata: { roleArn: "arn", pipelineType: "V1" } },
    "SLUICE",
  ],
  ["a version that is not a number", { ...sluiceDocument, version: "3" }, "SLUICE"],
  ["a field set to undefined", { ...sluiceDocument, roleArn: undefined }, "SLUICE"],
  [
    "malformed stages",
    { name: "app", stages: [null, { actions: "x" }, { actions: [null, { actionTypeId: 1 }] }] },
    "SLUICE",
  ],
  ["null", null, "SLUICE"],
  ["an array", [sluiceDocument], "SLUICE"],
  ["a string", "pipeline", "SLUICE"],
];

describe("detectDocumentFormat", () => {
  it.each(table)("%s → %s", (_, json, expected) => {
    expect(detectDocumentFormat(json)).toBe(expected);
  });
});
