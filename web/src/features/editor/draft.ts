/**
 * The editor's model: a pipeline document (`pipeline { document }`, Sluice format) turned into a
 * draft the forms edit (numbers kept as typed text, artifacts as comma-separated names, stable keys
 * for reordering), and back. Fields the forms do not know (triggers, awsMetadata…) ride along
 * untouched in `rest`. Pure: no React, no I/O.
 */

export interface ActionTypeRef {
  category: string;
  owner: string;
  provider: string;
  version: string;
}

export interface ConfigurationProperty {
  name: string;
  required: boolean;
  secret: boolean;
  description?: string | null;
  /** String, Number or Boolean. */
  type: string;
}

export interface ActionTypeInfo {
  id: ActionTypeRef;
  description?: string | null;
  configurationProperties: ConfigurationProperty[];
  inputArtifactDetails: { minimumCount: number; maximumCount: number };
  outputArtifactDetails: { minimumCount: number; maximumCount: number };
}

/** Why a failed attempt may run again (RetryPolicy.on). */
export const RETRY_CAUSES = ["AGENT_LOST", "FAILED", "TIMED_OUT"] as const;

/**
 * An action's retryPolicy. Not custom: none in the document (the default policy applies); the
 * other fields are then kept only so that switching back to Custom finds them again.
 */
export interface DraftRetry {
  custom: boolean;
  maxAttempts: string;
  /** Blank: the server's default, 0. */
  backoffSeconds: string;
  /** Some of RETRY_CAUSES, in the document's order. */
  on: string[];
}

export interface DraftAction {
  key: string;
  name: string;
  type: ActionTypeRef;
  runOrder: string;
  configuration: Record<string, string>;
  /** Comma-separated artifact names. */
  inputArtifacts: string;
  outputArtifacts: string;
  namespace: string;
  region: string;
  timeoutInMinutes: string;
  retry: DraftRetry;
  rest: Record<string, unknown>;
}

export interface DraftStage {
  key: string;
  name: string;
  actions: DraftAction[];
  rest: Record<string, unknown>;
}

/** When the pipeline starts by itself: a five-field cron expression in a time zone (blank is UTC). */
export interface DraftSchedule {
  key: string;
  cron: string;
  timezone: string;
}

/** A pipeline variable, read in configuration values as `#{variables.Name}`. */
export interface DraftVariable {
  key: string;
  name: string;
  defaultValue: string;
  description: string;
}

export interface Draft {
  name: string;
  executionMode: string;
  stages: DraftStage[];
  variables: DraftVariable[];
  schedules: DraftSchedule[];
  rest: Record<string, unknown>;
}

/** A problem at a document path (`stages[1].actions[0].configuration.Commands`), from the server or the draft. */
export interface Issue {
  path: string;
  message: string;
}

export const EXECUTION_MODES = ["SUPERSEDED", "QUEUED", "PARALLEL"] as const;

/** Shown instead of a secret value in the JSON view; the value itself stays in the draft. */
export const SECRET_MASK = "••••••••";

let nextKey = 0;
export const newKey = (): string => `k${++nextKey}`;

/** Only the four fields of an action type id (query results also carry `__typename`). */
export const typeRef = (t: ActionTypeRef): ActionTypeRef => ({
  category: t.category,
  owner: t.owner,
  provider: t.provider,
  version: t.version,
});

export const typeKey = (t: ActionTypeRef): string => `${t.category}/${t.owner}/${t.provider}/${t.version}`;

export function typeLabel(t: ActionTypeRef): string {
  return `${t.category} · ${t.provider}${t.owner === "Sluice" ? "" : ` (${t.owner})`}${t.version === "1" ? "" : ` v${t.version}`}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const text = (value: unknown): string =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : "";

const artifactNames = (value: unknown): string =>
  Array.isArray(value)
    ? value
        .map((a) => (isObject(a) ? text(a.name) : ""))
        .filter(Boolean)
        .join(", ")
    : "";

/** What Custom starts from: the default policy of most actions (a lost agent, 3 attempts in all). */
export const defaultRetry = (): DraftRetry => ({
  custom: false,
  maxAttempts: "3",
  backoffSeconds: "0",
  on: ["AGENT_LOST"],
});

export function emptyAction(type: ActionTypeRef): DraftAction {
  return {
    key: newKey(),
    name: "",
    type,
    runOrder: "1",
    configuration: {},
    inputArtifacts: "",
    outputArtifacts: "",
    namespace: "",
    region: "",
    timeoutInMinutes: "",
    retry: defaultRetry(),
    rest: {},
  };
}

export const emptySchedule = (): DraftSchedule => ({ key: newKey(), cron: "", timezone: "" });

export const emptyVariable = (): DraftVariable => ({
  key: newKey(),
  name: "",
  defaultValue: "",
  description: "",
});

export function emptyStage(name = ""): DraftStage {
  return { key: newKey(), name, actions: [], rest: {} };
}

export function emptyDraft(): Draft {
  return {
    name: "",
    executionMode: "SUPERSEDED",
    stages: [emptyStage("Source"), emptyStage("Build")],
    variables: [],
    schedules: [],
    rest: {},
  };
}

/** A document (from the server or the JSON view) as a draft; throws with a sentence when it has no usable shape. */
export function toDraft(document: unknown): Draft {
  if (!isObject(document)) throw new Error("The document must be a JSON object.");
  const { name, executionMode, stages, variables, schedules, ...rest } = document;
  if (!Array.isArray(stages)) throw new Error("The document needs a list of stages (`stages`).");
  if (variables !== undefined && variables !== null && !Array.isArray(variables))
    throw new Error("`variables` must be a list.");
  if (schedules !== undefined && schedules !== null && !Array.isArray(schedules))
    throw new Error("`schedules` must be a list.");
  return {
    name: text(name),
    executionMode: text(executionMode) || "SUPERSEDED",
    rest,
    variables: (variables ?? []).map((variable: unknown, k: number) => {
      if (!isObject(variable)) throw new Error(`variables[${k}] must be an object.`);
      return {
        key: newKey(),
        name: text(variable.name),
        defaultValue: text(variable.defaultValue),
        description: text(variable.description),
      };
    }),
    schedules: (schedules ?? []).map((schedule: unknown, i: number) => {
      if (!isObject(schedule)) throw new Error(`schedules[${i}] must be an object.`);
      return { key: newKey(), cron: text(schedule.cron), timezone: text(schedule.timezone) };
    }),
    stages: stages.map((stage, i) => {
      if (!isObject(stage)) throw new Error(`stages[${i}] must be an object.`);
      const { name: stageName, actions, ...stageRest } = stage;
      if (!Array.isArray(actions)) throw new Error(`stages[${i}] needs a list of actions (\`actions\`).`);
      return {
        key: newKey(),
        name: text(stageName),
        rest: stageRest,
        actions: actions.map((action, j) => {
          if (!isObject(action)) throw new Error(`stages[${i}].actions[${j}] must be an object.`);
          const {
            name: actionName,
            actionTypeId,
            runOrder,
            configuration,
            inputArtifacts,
            outputArtifacts,
            namespace,
            region,
            timeoutInMinutes,
            retryPolicy,
            ...actionRest
          } = action;
          const id = isObject(actionTypeId) ? actionTypeId : {};
          return {
            key: newKey(),
            name: text(actionName),
            type: {
              category: text(id.category),
              owner: text(id.owner),
              provider: text(id.provider),
              version: text(id.version),
            },
            runOrder: runOrder === undefined || runOrder === null ? "1" : text(runOrder),
            configuration: isObject(configuration)
              ? Object.fromEntries(Object.entries(configuration).map(([k, v]) => [k, text(v)]))
              : {},
            inputArtifacts: artifactNames(inputArtifacts),
            outputArtifacts: artifactNames(outputArtifacts),
            namespace: text(namespace),
            region: text(region),
            timeoutInMinutes: text(timeoutInMinutes),
            retry: toRetry(retryPolicy, `stages[${i}].actions[${j}].retryPolicy`),
            rest: actionRest,
          };
        }),
      };
    }),
  };
}

/** A document's retryPolicy (absent or null: the default policy) as the draft keeps it. */
function toRetry(policy: unknown, path: string): DraftRetry {
  if (policy === undefined || policy === null) return defaultRetry();
  if (!isObject(policy)) throw new Error(`${path} must be an object or null.`);
  const { on } = policy;
  if (on !== undefined && on !== null && !Array.isArray(on)) throw new Error(`${path}.on must be a list.`);
  return {
    custom: true,
    maxAttempts: text(policy.maxAttempts),
    backoffSeconds: text(policy.backoffSeconds),
    on: (on ?? []).map(text),
  };
}

const toArtifacts = (names: string) =>
  names
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((name) => ({ name }));

/** Whole numbers stay as typed for the server to judge their range; anything else is the draft's own issue. */
function integer(value: string, path: string, what: string, issues: Issue[]): number | undefined {
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (/^-?\d{1,9}$/.test(trimmed)) return Number(trimmed);
  issues.push({ path, message: `${what} must be a whole number.` });
  return undefined;
}

/**
 * The draft as a pipeline document (PipelineInput), and the problems that stop it from being one
 * (numbers that are not numbers). Blank configuration values are left out: the server reports a
 * blank required one at its path either way, and an optional one is simply not set.
 */
export function toDocument(draft: Draft): { document: Record<string, unknown>; issues: Issue[] } {
  const issues: Issue[] = [];
  const document = {
    ...draft.rest,
    name: draft.name.trim(),
    executionMode: draft.executionMode,
    variables: draft.variables.map((variable) => ({
      name: variable.name.trim(),
      ...(variable.defaultValue.trim() ? { defaultValue: variable.defaultValue } : {}),
      ...(variable.description.trim() ? { description: variable.description.trim() } : {}),
    })),
    schedules: draft.schedules.map((schedule) => ({
      cron: schedule.cron.trim(),
      ...(schedule.timezone.trim() ? { timezone: schedule.timezone.trim() } : {}),
    })),
    stages: draft.stages.map((stage, i) => ({
      ...stage.rest,
      name: stage.name.trim(),
      actions: stage.actions.map((action, j) => {
        const at = `stages[${i}].actions[${j}]`;
        const runOrder = integer(action.runOrder, `${at}.runOrder`, "The run order", issues);
        const timeout = integer(action.timeoutInMinutes, `${at}.timeoutInMinutes`, "The timeout", issues);
        const retryPolicy = action.retry.custom
          ? fromRetry(action.retry, `${at}.retryPolicy`, issues)
          : undefined;
        return {
          ...action.rest,
          name: action.name.trim(),
          actionTypeId: typeRef(action.type),
          ...(runOrder === undefined ? {} : { runOrder }),
          configuration: Object.fromEntries(
            Object.entries(action.configuration).filter(([, value]) => value.trim() !== ""),
          ),
          inputArtifacts: toArtifacts(action.inputArtifacts),
          outputArtifacts: toArtifacts(action.outputArtifacts),
          ...(action.namespace.trim() ? { namespace: action.namespace.trim() } : {}),
          ...(action.region.trim() ? { region: action.region.trim() } : {}),
          ...(timeout === undefined ? {} : { timeoutInMinutes: timeout }),
          ...(retryPolicy === undefined ? {} : { retryPolicy }),
        };
      }),
    })),
  };
  return { document, issues };
}

/** A custom retry policy as a document's retryPolicy; the server judges the ranges and causes. */
function fromRetry(retry: DraftRetry, path: string, issues: Issue[]): Record<string, unknown> {
  const maxAttempts = integer(retry.maxAttempts, `${path}.maxAttempts`, "The number of attempts", issues);
  if (retry.maxAttempts.trim() === "")
    issues.push({
      path: `${path}.maxAttempts`,
      message: "A custom retry policy needs a number of attempts.",
    });
  const backoffSeconds = integer(
    retry.backoffSeconds,
    `${path}.backoffSeconds`,
    "The wait between attempts",
    issues,
  );
  return {
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    ...(backoffSeconds === undefined ? {} : { backoffSeconds }),
    on: [...retry.on],
  };
}

/** Secret configuration values of a document replaced by SECRET_MASK (for the JSON view). */
export function maskSecrets(document: Record<string, unknown>, types: Map<string, ActionTypeInfo>) {
  const copy = structuredClone(document) as { stages?: Array<{ actions?: Array<Record<string, unknown>> }> };
  for (const stage of copy.stages ?? [])
    for (const action of stage.actions ?? []) {
      const type = types.get(typeKey(action.actionTypeId as ActionTypeRef));
      const configuration = action.configuration as Record<string, string> | undefined;
      for (const property of type?.configurationProperties ?? [])
        if (property.secret && configuration?.[property.name]) configuration[property.name] = SECRET_MASK;
    }
  return copy;
}

/** Puts back the secrets the JSON view masked, matched by stage and action name (the keys of a document). */
export function unmaskSecrets(next: Draft, previous: Draft): Draft {
  const secrets = new Map<string, string>();
  for (const stage of previous.stages)
    for (const action of stage.actions)
      for (const [k, v] of Object.entries(action.configuration))
        secrets.set(`${stage.name}\u0000${action.name}\u0000${k}`, v);
  for (const stage of next.stages)
    for (const action of stage.actions)
      for (const [k, v] of Object.entries(action.configuration))
        if (v === SECRET_MASK)
          action.configuration[k] = secrets.get(`${stage.name}\u0000${action.name}\u0000${k}`) ?? "";
  return next;
}

/** The output artifacts produced before an action runs (earlier stages, or a lower runOrder in its stage). */
export function artifactsBefore(draft: Draft, stageIndex: number, runOrder: string): string[] {
  const order = Number(runOrder) || 1;
  const names: string[] = [];
  draft.stages.forEach((stage, i) => {
    if (i > stageIndex) return;
    for (const action of stage.actions)
      if (i < stageIndex || (Number(action.runOrder) || 1) < order)
        names.push(...toArtifacts(action.outputArtifacts).map((a) => a.name));
  });
  return names;
}

// ── where an issue shows ───────────────────────────────────────────────────────────────────────

const ACTION_FIELDS = new Set(["name", "runOrder", "namespace", "region", "timeoutInMinutes"]);
const ACTION_GROUPS = new Set(["inputArtifacts", "outputArtifacts", "actionTypeId", "configuration"]);
const VARIABLE_FIELDS = new Set(["name", "defaultValue", "description"]);

/** `retryPolicy…` of an action → the retry field it shows at (the whole control unless custom). */
function retryAnchor(rest: string, action: DraftAction): string {
  if (!action.retry.custom) return "retryPolicy";
  if (rest === "retryPolicy.maxAttempts" || rest === "retryPolicy.backoffSeconds") return rest;
  if (/^retryPolicy\.on(?:\[\d+\])?$/.test(rest)) return "retryPolicy.on";
  return "retryPolicy";
}

/** `configuration.Commands`, `configuration["a b"]` → the key. */
function configurationKey(rest: string): string | null {
  const dotted = /^configuration\.([^.[\]]+)$/.exec(rest);
  if (dotted) return dotted[1]!;
  const quoted = /^configuration\[("(?:[^"\\]|\\.)*")\]$/.exec(rest);
  if (quoted) {
    try {
      return JSON.parse(quoted[1]!) as string;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The form field (or group, action, stage; "" for the whole document) an issue at `path` shows
 * at: the field itself when the form has one, else the nearest thing around it that is on screen.
 */
export function anchorOf(path: string, draft: Draft): string {
  if (path === "name" || path === "executionMode") return path;
  const scheduleMatch = /^schedules\[(\d+)\](?:\.(.*))?$/.exec(path);
  if (scheduleMatch) {
    if (!draft.schedules[Number(scheduleMatch[1])]) return "schedules";
    const field = scheduleMatch[2];
    return field === "cron" || field === "timezone" ? `schedules[${scheduleMatch[1]}].${field}` : "schedules";
  }
  if (path === "schedules") return path;
  const variableMatch = /^variables\[(\d+)\](?:\.(.*))?$/.exec(path);
  if (variableMatch) {
    const field = variableMatch[2] ?? "";
    return draft.variables[Number(variableMatch[1])] && VARIABLE_FIELDS.has(field)
      ? `variables[${variableMatch[1]}].${field}`
      : "variables";
  }
  if (path === "variables") return path;
  const stageMatch = /^stages\[(\d+)\](?:\.(.*))?$/.exec(path);
  if (!stageMatch) return "";
  const stage = draft.stages[Number(stageMatch[1])];
  if (!stage) return "stages";
  const stagePath = `stages[${stageMatch[1]}]`;
  const stageRest = stageMatch[2] ?? "";
  if (stageRest === "name") return `${stagePath}.name`;
  const actionMatch = /^actions\[(\d+)\](?:\.(.*))?$/.exec(stageRest);
  if (!actionMatch) return stagePath;
  const action = stage.actions[Number(actionMatch[1])];
  if (!action) return stagePath;
  const actionPath = `${stagePath}.actions[${actionMatch[1]}]`;
  const rest = actionMatch[2] ?? "";
  if (ACTION_FIELDS.has(rest)) return `${actionPath}.${rest}`;
  const key = configurationKey(rest);
  if (key !== null) return `${actionPath}.configuration.${key}`;
  if (/^retryPolicy(?:[.[]|$)/.test(rest)) return `${actionPath}.${retryAnchor(rest, action)}`;
  const group = rest.split(/[.[]/)[0] ?? "";
  if (ACTION_GROUPS.has(group)) return `${actionPath}.${group}`;
  return actionPath;
}

/** A DOM id for the field at a path. */
export const fieldId = (path: string): string => `field-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;

const VARIABLE_LABELS: Record<string, string> = {
  name: "Name",
  defaultValue: "Default value",
  description: "Description",
};
const RETRY_LABELS: Record<string, string> = {
  retryPolicy: "Retry policy",
  "retryPolicy.maxAttempts": "Retry policy › Attempts",
  "retryPolicy.backoffSeconds": "Retry policy › Seconds between attempts",
  "retryPolicy.on": "Retry policy › Retry when",
};

/** Where an anchor is, in words: "Build › Compile › Commands". */
export function describeAnchor(anchor: string, draft: Draft): string {
  const variable = /^variables(?:\[(\d+)\]\.(name|defaultValue|description))?$/.exec(anchor);
  if (variable)
    return variable[1] === undefined
      ? "Variables"
      : `Variable ${Number(variable[1]) + 1} › ${VARIABLE_LABELS[variable[2]!]}`;
  const schedule = /^schedules(?:\[(\d+)\]\.(cron|timezone))?$/.exec(anchor);
  if (schedule)
    return schedule[1] === undefined
      ? "Schedules"
      : `Schedule ${Number(schedule[1]) + 1} › ${schedule[2] === "cron" ? "Cron" : "Time zone"}`;
  const m = /^stages\[(\d+)\](?:\.actions\[(\d+)\])?(?:\.(.*))?$/.exec(anchor);
  if (!m)
    return anchor === "name"
      ? "Pipeline name"
      : anchor === "executionMode"
        ? "Execution mode"
        : "The pipeline";
  const stage = draft.stages[Number(m[1])];
  const action = m[2] === undefined ? undefined : stage?.actions[Number(m[2])];
  const field = RETRY_LABELS[m[3] ?? ""] ?? (m[3] ?? "").replace(/^configuration\./, "");
  return [
    `Stage ${stage?.name || Number(m[1]) + 1}`,
    m[2] === undefined ? null : `action ${action?.name || Number(m[2]) + 1}`,
    field || null,
  ]
    .filter(Boolean)
    .join(" › ");
}
