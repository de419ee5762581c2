/**
 * fast-check arbitraries of VALID normalized pipeline documents (built-in action types only), for
 * property tests. Test-only: server/tsconfig.build.json excludes `__tests__` folders.
 *
 * The arbitrary draws a blueprint of plain random choices and builds the document from it
 * deterministically, keeping every rule true by construction:
 * - the first stage holds 1–3 Source actions (each produces one artifact); 1–5 later stages hold
 *   1–4 non-Source actions with runOrders drawn from a few values, so equal and distinct runOrders
 *   (parallel actions and waves) both occur;
 * - the first action of stage 1 is always a Build action (property tests mutate it: it has an input
 *   artifact and the required `Commands`);
 * - inputs are picked among the outputs of actions that run earlier, and `#{...}` references among
 *   the namespaces of actions that run earlier, the declared variables and the execution id;
 * - about one stage in four sets Sluice's `onNewerRevision: SUPERSEDE_PENDING_APPROVAL`;
 * - names get a random base and a unique suffix, with a different suffix letter per kind
 *   (`-a3` artifacts, `-n3` namespaces, `-v3` variables), so names never collide across kinds.
 */
import fc from "fast-check";
import {
  ACTION_CATEGORIES,
  EXECUTION_MODES,
  type ActionCategory,
  type ActionDeclaration,
  type AwsMetadata,
  type GitFilterPatterns,
  type GitPushFilter,
  type PipelineDocument,
  type PipelineTrigger,
  type PipelineVariable,
  type StageDeclaration,
} from "../document";
import { MIN_ACTION_TIMEOUT_MINUTES, maxTimeoutInMinutes } from "../../limits";
import { runsBefore } from "../ordering";

type LaterCategory = Exclude<ActionCategory, "Source">;
const LATER_CATEGORIES = ACTION_CATEGORIES.filter((c): c is LaterCategory => c !== "Source");
/** Few values so that equal runOrders (parallel actions) are common, with a gap and the maximum. */
const RUN_ORDERS = [1, 1, 2, 3, 10, 999] as const;
const OUTPUT_VARIABLES = ["CommitId", "BranchName", "Version", "Url"] as const;

// ── Blueprint ────────────────────────────────────────────────────────────────────────────────────

const base = (pattern: RegExp) => fc.stringMatching(pattern);
const nameBase = base(/^[A-Za-z][A-Za-z0-9.@_]{0,12}$/);
const idBase = base(/^[A-Za-z][A-Za-z0-9_]{0,12}$/);
const pattern = base(/^[a-z0-9*/._-]{1,20}$/);

const awsMetadata: fc.Arbitrary<AwsMetadata | null> = fc.option(
  fc.dictionary(
    base(/^[a-z][A-Za-z]{0,8}$/),
    fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean()),
    {
      maxKeys: 3,
    },
  ),
  { freq: 4 },
);

/** Sluice's stage option, on about one stage in four. */
const onNewerRevision = fc.option(fc.constant("SUPERSEDE_PENDING_APPROVAL" as const), { freq: 3 });

const common = {
  name: nameBase,
  withNamespace: fc.boolean(),
  namespaceBase: base(/^[A-Za-z][A-Za-z0-9@_]{0,12}$/),
  region: fc.option(idBase, { freq: 2 }),
  timeoutFraction: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 2 }),
  awsMetadata,
};

const sourceBlueprint = fc.record({
  ...common,
  provider: fc.constantFrom("Git", "Git", "Upload"),
  artifactBase: idBase,
  detectChanges: fc.option(fc.constantFrom("true", "false")),
  pollSeconds: fc.option(fc.integer({ min: 10, max: 3600 })),
});

const laterBlueprint = fc.record({
  ...common,
  category: fc.constantFrom(...LATER_CATEGORIES),
  runOrder: fc.constantFrom(...RUN_ORDERS),
  inputPicks: fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 5 }),
  outputBases: fc.array(idBase, { maxLength: 2 }),
  referencePicks: fc.array(fc.nat(), { maxLength: 3 }),
  command: base(/^[a-z][a-z0-9 ./-]{0,30}$/),
  optionalKeys: fc.boolean(),
});

const patternsBlueprint: fc.Arbitrary<GitFilterPatterns> = fc.record({
  includes: fc.array(pattern, { maxLength: 3 }),
  excludes: fc.array(pattern, { maxLength: 3 }),
});

const pushFilterBlueprint: fc.Arbitrary<GitPushFilter> = fc
  .record({
    which: fc.constantFrom("branches", "tags", "both"),
    branches: patternsBlueprint,
    tags: patternsBlueprint,
    filePaths: fc.option(patternsBlueprint),
  })
  .map(({ which, branches, tags, filePaths }) => ({
    branches: which === "tags" ? null : branches,
    filePaths,
    tags: which === "branches" ? null : tags,
  }));

const blueprint = fc.record({
  name: nameBase,
  executionMode: fc.constantFrom(...EXECUTION_MODES),
  variables: fc.array(
    fc.record({
      name: base(/^[A-Za-z@_][A-Za-z0-9@_]{0,12}$/),
      defaultValue: fc.option(fc.string({ maxLength: 20 })),
      description: fc.option(fc.string({ maxLength: 40 })),
    }),
    { maxLength: 4 },
  ),
  sources: fc.array(sourceBlueprint, { minLength: 1, maxLength: 3 }),
  firstBuild: laterBlueprint,
  laterStages: fc.array(
    fc.record({
      name: nameBase,
      awsMetadata,
      onNewerRevision,
      actions: fc.array(laterBlueprint, { minLength: 1, maxLength: 4 }),
    }),
    {
      minLength: 1,
      maxLength: 5,
    },
  ),
  sourceStage: fc.record({ name: nameBase, awsMetadata, onNewerRevision }),
  triggers: fc.option(
    fc.array(fc.array(pushFilterBlueprint, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  ),
  awsMetadata,
});

type Blueprint = typeof blueprint extends fc.Arbitrary<infer B> ? B : never;
type SourceBlueprint = typeof sourceBlueprint extends fc.Arbitrary<infer B> ? B : never;
type LaterBlueprint = typeof laterBlueprint extends fc.Arbitrary<infer B> ? B : never;

// ── Building ─────────────────────────────────────────────────────────────────────────────────────

/** Random VALID normalized pipeline documents (2–6 stages), valid against the built-in registry. */
export function validPipelineDocument(): fc.Arbitrary<PipelineDocument> {
  return blueprint.map(build);
}

interface Placed {
  stageIndex: number;
  runOrder: number;
  outputs: string[];
  namespace: string | null;
}

function build(plan: Blueprint): PipelineDocument {
  let counter = 0;
  const unique = (prefix: string, suffix: string) => `${prefix}-${suffix}${counter++}`;
  const variables: PipelineVariable[] = plan.variables.map((v) => ({ ...v, name: unique(v.name, "v") }));
  const placed: Placed[] = [];

  const sourceActions = plan.sources.map((source) => {
    const self: Placed = {
      stageIndex: 0,
      runOrder: 1,
      outputs: [unique(source.artifactBase, "a")],
      namespace: source.withNamespace ? unique(source.namespaceBase, "n") : null,
    };
    placed.push(self);
    return buildSource(source, unique(source.name, "s"), self);
  });
  const stages: StageDeclaration[] = [
    {
      name: unique(plan.sourceStage.name, "g"),
      actions: sourceActions,
      onNewerRevision: plan.sourceStage.onNewerRevision,
      awsMetadata: plan.sourceStage.awsMetadata,
    },
  ];

  plan.laterStages.forEach((stagePlan, s) => {
    const stageIndex = s + 1;
    const actionPlans =
      s === 0
        ? [{ ...plan.firstBuild, category: "Build" as const }, ...stagePlan.actions]
        : stagePlan.actions;
    // Outputs and namespaces first: an action may consume what a lower runOrder of its own stage produces.
    const here = actionPlans.map((a): Placed => {
      const outputs = producesArtifacts(a.category) ? a.outputBases.map((b) => unique(b, "a")) : [];
      return {
        stageIndex,
        runOrder: a.runOrder,
        outputs,
        namespace: a.withNamespace ? unique(a.namespaceBase, "n") : null,
      };
    });
    const actions = actionPlans.map((a, k) =>
      buildLater(a, unique(a.name, "x"), here[k]!, [...placed, ...here], variables),
    );
    placed.push(...here);
    stages.push({
      name: unique(stagePlan.name, "g"),
      actions,
      onNewerRevision: stagePlan.onNewerRevision,
      awsMetadata: stagePlan.awsMetadata,
    });
  });

  const gitSources = sourceActions.filter((a) => a.actionTypeId.provider === "Git");
  const triggers: PipelineTrigger[] = (plan.triggers ?? []).slice(0, gitSources.length).map((push, i) => ({
    providerType: "Git",
    gitConfiguration: { sourceActionName: gitSources[i]!.name, push },
  }));

  return {
    name: unique(plan.name, "p"),
    executionMode: plan.executionMode,
    variables,
    triggers,
    // Some documents carry a schedule, so the round trips cover Sluice's own field.
    schedules: plan.executionMode === "QUEUED" ? [{ cron: "30 2 * * 1-5", timezone: "Europe/Paris" }] : [],
    stages,
    awsMetadata: plan.awsMetadata,
  };
}

function buildSource(plan: SourceBlueprint, name: string, self: Placed): ActionDeclaration {
  const artifact = self.outputs[0]!;
  const configuration: Record<string, string> = {};
  if (plan.provider === "Git") {
    configuration.Repository = `https://git.example/${artifact}.git`;
    configuration.Branch = "main";
    if (plan.detectChanges !== null) configuration.DetectChanges = plan.detectChanges;
    if (plan.pollSeconds !== null) configuration.PollIntervalSeconds = String(plan.pollSeconds);
  }
  return {
    name,
    actionTypeId: { category: "Source", owner: "Sluice", provider: plan.provider, version: "1" },
    runOrder: 1,
    configuration,
    inputArtifacts: [],
    outputArtifacts: [{ name: artifact }],
    namespace: self.namespace,
    region: plan.region,
    timeoutInMinutes: timeout("Source", plan.timeoutFraction),
    retryPolicy: null,
    awsMetadata: plan.awsMetadata,
  };
}

function buildLater(
  plan: LaterBlueprint,
  name: string,
  self: Placed,
  all: readonly Placed[],
  variables: readonly PipelineVariable[],
): ActionDeclaration {
  const earlier = all.filter((p) => p !== self && runsBefore(p, self));
  const artifacts = earlier.flatMap((p) => p.outputs);
  const references = [
    ...earlier.flatMap((p) =>
      p.namespace === null ? [] : OUTPUT_VARIABLES.map((v) => `#{${p.namespace}.${v}}`),
    ),
    ...variables.map((v) => `#{variables.${v.name}}`),
    "#{codepipeline.PipelineExecutionId}",
  ];
  const text = [plan.command, ...plan.referencePicks.map((i) => references[i % references.length]!)].join(
    " ",
  );
  const [provider, configuration] = configurationFor(plan, text);
  return {
    name,
    actionTypeId: { category: plan.category, owner: "Sluice", provider, version: "1" },
    runOrder: plan.runOrder,
    configuration,
    inputArtifacts: pickInputs(plan, artifacts),
    outputArtifacts: self.outputs.map((n) => ({ name: n })),
    namespace: self.namespace,
    region: plan.region,
    timeoutInMinutes: timeout(plan.category, plan.timeoutFraction),
    retryPolicy: null,
    awsMetadata: plan.awsMetadata,
  };
}

function configurationFor(plan: LaterBlueprint, text: string): [string, Record<string, string>] {
  switch (plan.category) {
    case "Build":
    case "Test":
    case "Deploy": {
      const configuration: Record<string, string> = { Commands: text };
      if (plan.optionalKeys) configuration.EnvironmentVariables = `{"TARGET":"${plan.command}"}`;
      if (plan.optionalKeys && plan.category === "Test") configuration.ReportFiles = "reports/*.xml";
      return ["Shell", configuration];
    }
    case "Approval":
      return [
        "Manual",
        plan.optionalKeys ? { CustomData: text, ExternalEntityLink: "https://review.example" } : {},
      ];
    case "Invoke":
      return [
        "Webhook",
        {
          Url: `https://hooks.example/${encodeURIComponent(plan.command)}?q=${text}`,
          ...(plan.optionalKeys ? { Method: "POST" } : {}),
        },
      ];
  }
}

function producesArtifacts(category: LaterCategory): boolean {
  return category === "Build" || category === "Test" || category === "Deploy";
}

function pickInputs(plan: LaterBlueprint, artifacts: readonly string[]): { name: string }[] {
  if (plan.category === "Approval" || artifacts.length === 0) return [];
  const picked = [...new Set(plan.inputPicks.map((i) => artifacts[i % artifacts.length]!))];
  // Invoke takes 0–5 inputs, so sometimes none; the shell types need one (inputPicks is never empty).
  return (plan.category === "Invoke" && !plan.optionalKeys ? [] : picked).map((name) => ({ name }));
}

function timeout(category: ActionCategory, fraction: number | null): number | null {
  if (fraction === null) return null;
  const max = maxTimeoutInMinutes(category);
  return MIN_ACTION_TIMEOUT_MINUTES + Math.floor(fraction * (max - MIN_ACTION_TIMEOUT_MINUTES));
}
