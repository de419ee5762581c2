/**
 * Normalized PipelineDocument → the clean JSON a user sees and edits: nulls left out, lists and
 * runOrder always written, so that parsePipelineDocument(exportPipelineDocument(doc)) equals doc.
 * The result shares nothing with `doc`.
 */
import type {
  ActionDeclaration,
  GitFilterPatterns,
  GitPushFilter,
  PipelineDocument,
  PipelineTrigger,
  PipelineVariable,
  StageDeclaration,
} from "./document";

type Json = Record<string, unknown>;

export function exportPipelineDocument(doc: PipelineDocument): Record<string, unknown> {
  return {
    name: doc.name,
    executionMode: doc.executionMode,
    variables: doc.variables.map(exportVariable),
    triggers: doc.triggers.map(exportTrigger),
    ...((doc.schedules ?? []).length > 0
      ? { schedules: doc.schedules.map((s) => ({ cron: s.cron, ...ifSet("timezone", s.timezone) })) }
      : {}),
    stages: doc.stages.map(exportStage),
    ...ifSet("awsMetadata", copy(doc.awsMetadata)),
  };
}

function exportVariable(variable: PipelineVariable): Json {
  return {
    name: variable.name,
    ...ifSet("defaultValue", variable.defaultValue),
    ...ifSet("description", variable.description),
  };
}

function exportTrigger(trigger: PipelineTrigger): Json {
  return {
    providerType: trigger.providerType,
    gitConfiguration: {
      sourceActionName: trigger.gitConfiguration.sourceActionName,
      push: trigger.gitConfiguration.push.map(exportPushFilter),
    },
  };
}

function exportPushFilter(filter: GitPushFilter): Json {
  return {
    ...ifSet("branches", exportPatterns(filter.branches)),
    ...ifSet("filePaths", exportPatterns(filter.filePaths)),
    ...ifSet("tags", exportPatterns(filter.tags)),
  };
}

function exportPatterns(patterns: GitFilterPatterns | null): Json | null {
  return patterns === null ? null : { includes: [...patterns.includes], excludes: [...patterns.excludes] };
}

function exportStage(stage: StageDeclaration): Json {
  return {
    name: stage.name,
    actions: stage.actions.map(exportAction),
    ...ifSet("onNewerRevision", stage.onNewerRevision),
    ...ifSet("awsMetadata", copy(stage.awsMetadata)),
  };
}

function exportAction(action: ActionDeclaration): Json {
  return {
    name: action.name,
    actionTypeId: { ...action.actionTypeId },
    runOrder: action.runOrder,
    configuration: { ...action.configuration },
    inputArtifacts: action.inputArtifacts.map(({ name }) => ({ name })),
    outputArtifacts: action.outputArtifacts.map(({ name }) => ({ name })),
    ...ifSet("namespace", action.namespace),
    ...ifSet("region", action.region),
    ...ifSet("timeoutInMinutes", action.timeoutInMinutes),
    ...ifSet("retryPolicy", copy(action.retryPolicy)),
    ...ifSet("awsMetadata", copy(action.awsMetadata)),
  };
}

function ifSet<K extends string, V>(key: K, value: V | null): Partial<Record<K, V>> {
  return value === null ? {} : ({ [key]: value } as Record<K, V>);
}

function copy<T>(value: T): T {
  return value === null ? value : structuredClone(value);
}
