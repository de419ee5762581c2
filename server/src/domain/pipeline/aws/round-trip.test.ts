/**
 * The two invariants of the AWS interop:
 * (a) a valid Sluice document survives AWS export and import unchanged;
 * (b) an AWS get-pipeline document survives import and AWS export unchanged (modulo key order).
 */
import fc from "fast-check";
import type { ActionTypeDefinition } from "../../action-types/action-type";
import type { AwsMetadata, PipelineDocument } from "../document";
import { validPipelineDocument } from "../__tests__/arbitraries";
import { toAwsDocument } from "./export";
import { FIXTURES, fixture, importValid } from "./__tests__/harness";

const RUNS = { numRuns: 200 };

describe("(b) AWS → Sluice → AWS is the identity on get-pipeline output", () => {
  it.each(FIXTURES)("%s", (name) => {
    const original = fixture(name);
    const { document } = importValid(fixture(name));
    expect(toAwsDocument(document)).toEqual(original);
  });

  it.each(FIXTURES)("%s without the { pipeline, metadata } wrapper", (name) => {
    const declaration = fixture(name)["pipeline"];
    const { document } = importValid(declaration);
    expect(toAwsDocument(document)).toEqual({ pipeline: declaration });
  });

  it.each(FIXTURES)("%s: importing the export again gives the same Sluice document", (name) => {
    const first = importValid(fixture(name));
    const second = importValid(toAwsDocument(first.document));
    expect(second.document).toEqual(first.document);
  });
});

describe("(a) Sluice → AWS → Sluice is the identity on valid documents", () => {
  it("for documents of built-in action types", () => {
    fc.assert(
      fc.property(validPipelineDocument().map(withoutEmptyMetadata), (doc) => {
        const imported = importValid(overTheWire(toAwsDocument(doc)));
        expect(imported.document).toEqual(doc);
        expect(imported.customTypes).toEqual([]);
      }),
      RUNS,
    );
  });

  it("for documents with Custom action types, registered or not", () => {
    fc.assert(
      fc.property(
        validPipelineDocument().map(withoutEmptyMetadata).map(withCustomDeploys),
        fc.boolean(),
        (doc, registered) => {
          const custom = registered ? [HELM] : [];
          const imported = importValid(overTheWire(toAwsDocument(doc)), custom);
          expect(imported.document).toEqual(doc);
          const usesHelm = doc.stages.some((stage) =>
            stage.actions.some((action) => action.actionTypeId.provider === "Helm"),
          );
          // Unregistered, the import creates the type from the configuration keys the document uses.
          expect(imported.customTypes.map((type) => type.id)).toEqual(
            usesHelm && !registered ? [HELM.id] : [],
          );
        },
      ),
      RUNS,
    );
  });
});

/** The document as the API receives it: JSON text, parsed. */
function overTheWire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/**
 * An empty awsMetadata keeps nothing, so an AWS document cannot show it: the import writes null
 * for "nothing kept". The arbitrary draws `{}` too; both mean the same.
 */
function withoutEmptyMetadata(doc: PipelineDocument): PipelineDocument {
  const orNull = (metadata: AwsMetadata | null) =>
    metadata !== null && Object.keys(metadata).length === 0 ? null : metadata;
  return {
    ...doc,
    awsMetadata: orNull(doc.awsMetadata),
    stages: doc.stages.map((stage) => ({
      ...stage,
      awsMetadata: orNull(stage.awsMetadata),
      actions: stage.actions.map((action) => ({ ...action, awsMetadata: orNull(action.awsMetadata) })),
    })),
  };
}

const HELM: ActionTypeDefinition = {
  id: { category: "Deploy", owner: "Custom", provider: "Helm", version: "1" },
  description: "Deploys a chart.",
  configurationProperties: [
    { name: "Commands", required: true, secret: false, queryable: false, description: null, type: "String" },
  ],
  inputArtifactDetails: { minimumCount: 0, maximumCount: 5 },
  outputArtifactDetails: { minimumCount: 0, maximumCount: 5 },
  settings: {
    entityUrlTemplate: null,
    executionUrlTemplate: null,
    revisionUrlTemplate: null,
    thirdPartyConfigurationUrl: null,
  },
};

/** Every Deploy/Sluice/Shell action becomes Deploy/Custom/Helm@1, configuration and pool unchanged. */
function withCustomDeploys(doc: PipelineDocument): PipelineDocument {
  return {
    ...doc,
    stages: doc.stages.map((stage) => ({
      ...stage,
      actions: stage.actions.map((action) =>
        action.actionTypeId.category === "Deploy" ? { ...action, actionTypeId: { ...HELM.id } } : action,
      ),
    })),
  };
}
