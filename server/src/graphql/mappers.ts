import type { ActionTypeDefinition } from "../domain/action-types/action-type";
import type { ActionExecutionView, ExecutionView, StageExecutionView } from "../domain/execution";
import type { PipelineDocument } from "../domain/pipeline/document";
import { DEFAULT_ACCOUNT, formatSrn } from "../domain/policy/srn";
import type { PipelineVersionEntity } from "../persistence/entities/pipeline-version.entity";
import type { PipelineEntity } from "../persistence/entities/pipeline.entity";
import type { ActionTypeDeclarationType } from "./types/action-type.type";
import type { ExecutionModeEnum } from "./types/enums";
import type { PipelineType } from "./types/pipeline.type";

/** A pipeline at its current version, or at an older one when `version` is given. */
export function toPipelineType(entity: PipelineEntity, version?: PipelineVersionEntity): PipelineType {
  const document: PipelineDocument = version?.document ?? entity.document;
  return {
    id: entity.id,
    name: entity.name,
    account: entity.account ?? DEFAULT_ACCOUNT,
    srn: formatSrn(entity.account ?? DEFAULT_ACCOUNT, { type: "pipeline", pipeline: entity.name }),
    version: version?.version ?? entity.version,
    latestVersion: entity.version,
    executionMode: document.executionMode as ExecutionModeEnum,
    variables: document.variables,
    triggers: document.triggers,
    schedules: document.schedules ?? [],
    stages: document.stages,
    awsMetadata: document.awsMetadata,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
    lastActivityAt: entity.lastActivityAt,
    versionCreatedBy: version?.createdBy ?? entity.updatedBy,
    versionCreatedAt: version?.createdAt ?? entity.updatedAt,
    source: document,
  };
}

export function toActionTypeDeclaration(definition: ActionTypeDefinition): ActionTypeDeclarationType {
  return definition;
}

/** A stage of an execution, with what its global id and its authorization need. */
export type StageInExecution = StageExecutionView & { executionId: string; pipelineName: string };
export type ActionInExecution = ActionExecutionView & {
  executionId: string;
  pipelineName: string;
  stageName: string;
};

export function stageInExecution(execution: ExecutionView, stage: StageExecutionView): StageInExecution {
  const at = { executionId: execution.executionId, pipelineName: execution.pipelineName };
  return {
    ...stage,
    ...at,
    actions: stage.actions.map((action) => ({ ...action, ...at, stageName: stage.stageName })),
  };
}
