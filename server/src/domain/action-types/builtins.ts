/**
 * Sluice's built-in action types (PIPELINE-MODEL.md, "Built-in action types"): owner `Sluice`,
 * version "1". Agents implement them in agent/src/actions/<provider>.ts; the configuration
 * properties below are the contract between a pipeline document and those implementations.
 */
import type { ActionCategory, ActionTypeId } from "../pipeline/document";
import {
  actionTypeKey,
  type ActionTypeDefinition,
  type ActionTypeRegistry,
  type ArtifactBounds,
  type ConfigurationProperty,
} from "./action-type";

export const BUILTIN_OWNER = "Sluice";
export const BUILTIN_VERSION = "1";

type PropertySpec = Pick<ConfigurationProperty, "name" | "description"> &
  Partial<Pick<ConfigurationProperty, "required" | "secret" | "type">>;

function property(spec: PropertySpec): ConfigurationProperty {
  return { required: false, secret: false, queryable: false, type: "String", ...spec };
}

function bounds(minimumCount: number, maximumCount: number): ArtifactBounds {
  return { minimumCount, maximumCount };
}

function builtin(
  category: ActionCategory,
  provider: string,
  description: string,
  artifacts: { input: ArtifactBounds; output: ArtifactBounds },
  properties: PropertySpec[],
): ActionTypeDefinition {
  return {
    id: { category, owner: BUILTIN_OWNER, provider, version: BUILTIN_VERSION },
    description,
    configurationProperties: properties.map(property),
    inputArtifactDetails: artifacts.input,
    outputArtifactDetails: artifacts.output,
    settings: {
      entityUrlTemplate: null,
      executionUrlTemplate: null,
      revisionUrlTemplate: null,
      thirdPartyConfigurationUrl: null,
    },
  };
}

const COMMANDS = property({
  name: "Commands",
  required: true,
  description:
    "Shell commands run in order in the input artifact's directory; the action fails on the first that fails.",
});
const ENVIRONMENT_VARIABLES = property({
  name: "EnvironmentVariables",
  description: 'Extra environment variables as a JSON object of strings, e.g. {"NODE_ENV":"production"}.',
});
const OUTPUT_FILES = property({
  name: "OutputFiles",
  description: "Comma-separated glob patterns of the files that make up the output artifact.",
});
const SHELL_ARTIFACTS = { input: bounds(1, 5), output: bounds(0, 5) };

export const BUILTIN_ACTION_TYPES: readonly ActionTypeDefinition[] = [
  builtin(
    "Source",
    "Git",
    "Checks out a branch of a Git repository.",
    { input: bounds(0, 0), output: bounds(1, 1) },
    [
      { name: "Repository", required: true, description: "Clone URL of the repository." },
      { name: "Branch", required: true, description: "The branch whose commits start executions." },
      {
        name: "DetectChanges",
        type: "Boolean",
        description:
          "Whether new commits start an execution (true, the default) or only manual starts do (false).",
      },
      {
        name: "PollIntervalSeconds",
        type: "Number",
        description: "How often to poll the repository for changes when no webhook is set up.",
      },
    ],
  ),
  builtin(
    "Source",
    "Upload",
    "An archive uploaded to Sluice; each upload starts an execution.",
    {
      input: bounds(0, 0),
      output: bounds(1, 1),
    },
    [],
  ),
  builtin("Build", "Shell", "Runs shell commands on an agent and collects output files.", SHELL_ARTIFACTS, [
    COMMANDS,
    ENVIRONMENT_VARIABLES,
    OUTPUT_FILES,
  ]),
  builtin("Test", "Shell", "Runs test commands on an agent and collects reports.", SHELL_ARTIFACTS, [
    COMMANDS,
    ENVIRONMENT_VARIABLES,
    {
      name: "ReportFiles",
      description: "Comma-separated glob patterns of JUnit XML report files to publish.",
    },
    OUTPUT_FILES,
  ]),
  builtin("Deploy", "Shell", "Runs deployment commands on an agent of the action's pool.", SHELL_ARTIFACTS, [
    COMMANDS,
    ENVIRONMENT_VARIABLES,
  ]),
  builtin(
    "Approval",
    "Manual",
    "Waits until someone approves or rejects.",
    { input: bounds(0, 0), output: bounds(0, 0) },
    [
      { name: "CustomData", description: "A note shown to the approver." },
      { name: "ExternalEntityLink", description: "A link the approver should look at before deciding." },
    ],
  ),
  builtin(
    "Invoke",
    "Webhook",
    "Calls an HTTP endpoint and succeeds on a 2xx response.",
    {
      input: bounds(0, 5),
      output: bounds(0, 0),
    },
    [
      { name: "Url", required: true, description: "The URL to call." },
      { name: "Method", description: "The HTTP method; POST by default." },
      { name: "Headers", description: "Extra request headers as a JSON object of strings." },
      {
        name: "Secret",
        secret: true,
        description: "Key for the HMAC-SHA256 signature sent in the X-Sluice-Signature header.",
      },
    ],
  ),
];

/**
 * A registry of the built-ins plus `custom`. Built-ins are owner Sluice and custom types owner
 * Custom, so their keys cannot collide; should a caller pass a Sluice-owned definition anyway,
 * the built-in wins.
 */
export function createRegistry(custom: readonly ActionTypeDefinition[]): ActionTypeRegistry {
  const byKey = new Map<string, ActionTypeDefinition>();
  for (const definition of [...custom, ...BUILTIN_ACTION_TYPES])
    byKey.set(actionTypeKey(definition.id), definition);
  const all = [...BUILTIN_ACTION_TYPES, ...custom.filter((d) => byKey.get(actionTypeKey(d.id)) === d)];
  return {
    find: (id: ActionTypeId) => byKey.get(actionTypeKey(id)),
    all: () => [...all],
  };
}

/** The registry of built-ins alone. */
export const builtinRegistry: ActionTypeRegistry = createRegistry([]);
