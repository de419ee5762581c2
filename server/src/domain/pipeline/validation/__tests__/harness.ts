/**
 * The shared harness of the validation tests (after graphql-js's): builders for a minimal valid
 * document and its parts, and assertions that run the whole validator.
 *
 *   expectValid(pipeline())
 *   expectIssues(doc, [{ path: "stages[1].actions[0].runOrder", message: expect.stringMatching(/runOrder/) }])
 *
 * expectIssues compares the complete issue list, so a test also proves that nothing else was
 * reported. Quota issues must be expected with `limit: true`.
 */
import type { ActionTypeRegistry } from "../../../action-types/action-type";
import { builtinRegistry, createRegistry } from "../../../action-types/builtins";
import type { ValidationIssue } from "../../../errors";
import type { ActionDeclaration, ActionTypeId, PipelineDocument, StageDeclaration } from "../../document";
import { validatePipeline } from "../validate";

type ActionOverrides = Partial<ActionDeclaration>;

export function actionType(
  category: ActionTypeId["category"],
  provider: string,
  owner: ActionTypeId["owner"] = "Sluice",
): ActionTypeId {
  return { category, owner, provider, version: "1" };
}

export function action(
  name: string,
  actionTypeId: ActionTypeId,
  overrides: ActionOverrides = {},
): ActionDeclaration {
  return {
    name,
    actionTypeId,
    runOrder: 1,
    configuration: {},
    inputArtifacts: [],
    outputArtifacts: [],
    namespace: null,
    region: null,
    timeoutInMinutes: null,
    retryPolicy: null,
    awsMetadata: null,
    ...overrides,
  };
}

/** Source/Sluice/Git producing `SourceCode`. */
export function gitSource(name = "Checkout", overrides: ActionOverrides = {}): ActionDeclaration {
  return action(name, actionType("Source", "Git"), {
    configuration: { Repository: "https://git.example/app.git", Branch: "main" },
    outputArtifacts: [{ name: "SourceCode" }],
    ...overrides,
  });
}

/** Build/Sluice/Shell consuming `SourceCode`. */
export function shellBuild(name = "Compile", overrides: ActionOverrides = {}): ActionDeclaration {
  return action(name, actionType("Build", "Shell"), {
    configuration: { Commands: "make" },
    inputArtifacts: [{ name: "SourceCode" }],
    ...overrides,
  });
}

/** Approval/Sluice/Manual. */
export function approval(name = "Approve", overrides: ActionOverrides = {}): ActionDeclaration {
  return action(name, actionType("Approval", "Manual"), overrides);
}

export function stage(name: string, actions: ActionDeclaration[]): StageDeclaration {
  return { name, actions, onNewerRevision: null, awsMetadata: null };
}

/** The smallest valid pipeline: Source [Checkout → SourceCode], Build [Compile ← SourceCode]. */
export function pipeline(overrides: Partial<PipelineDocument> = {}): PipelineDocument {
  return {
    name: "web-app",
    executionMode: "SUPERSEDED",
    variables: [],
    triggers: [],
    schedules: [],
    stages: [stage("Source", [gitSource()]), stage("Build", [shellBuild()])],
    awsMetadata: null,
    ...overrides,
  };
}

/** A message is one or more sentences: it starts with a word, a quoted value or a reference, and ends with a period. */
const SENTENCE = /^[A-Za-z"#].*\.$/s;

export interface ExpectedIssue {
  path: string;
  message?: unknown;
  limit?: boolean;
}

export function validate(doc: unknown, registry: ActionTypeRegistry = builtinRegistry): ValidationIssue[] {
  const result = validatePipeline(doc, registry);
  return result.ok ? [] : result.issues;
}

export function expectValid(doc: unknown, registry: ActionTypeRegistry = builtinRegistry): void {
  expect(validate(doc, registry)).toEqual([]);
}

/** Asserts exactly these issues, in document order; `message` defaults to "any sentence". */
export function expectIssues(
  doc: unknown,
  expected: readonly ExpectedIssue[],
  registry: ActionTypeRegistry = builtinRegistry,
): void {
  const issues = validate(doc, registry);
  expect(issues).toEqual(
    expected.map(({ path, message, limit }) => ({
      path,
      message: message ?? expect.stringMatching(SENTENCE),
      ...(limit ? { limit: true } : {}),
    })),
  );
  // Every message is a sentence.
  for (const issue of issues) expect(issue.message).toMatch(SENTENCE);
}

/** A deep copy to mutate in a test. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Built-ins plus Deploy/Custom/Helm@1 (input 1–2, output 0, Chart required) for Custom-owner cases. */
export function registryWithHelm(): ActionTypeRegistry {
  return createRegistry([
    {
      id: { category: "Deploy", owner: "Custom", provider: "Helm", version: "1" },
      description: null,
      configurationProperties: [
        { name: "Chart", required: true, secret: false, queryable: false, description: null, type: "String" },
        {
          name: "Replicas",
          required: false,
          secret: false,
          queryable: false,
          description: null,
          type: "Number",
        },
      ],
      inputArtifactDetails: { minimumCount: 1, maximumCount: 2 },
      outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
      settings: {
        entityUrlTemplate: null,
        executionUrlTemplate: null,
        revisionUrlTemplate: null,
        thirdPartyConfigurationUrl: null,
      },
    },
  ]);
}
