import type { Command } from "commander";
import type { ContextFactory } from "../context";
import * as admin from "./admin";
import * as createAgentToken from "./create-agent-token";
import * as accounts from "./accounts";
import * as identity from "./identity";
import * as createPipeline from "./create-pipeline";
import * as customActionType from "./custom-action-type";
import * as deletePipeline from "./delete-pipeline";
import * as disableStageTransition from "./disable-stage-transition";
import * as enableStageTransition from "./enable-stage-transition";
import * as getPipeline from "./get-pipeline";
import * as getPipelineExecution from "./get-pipeline-execution";
import * as getPipelineState from "./get-pipeline-state";
import * as getPipelineVersions from "./get-pipeline-versions";
import * as importPipeline from "./import-pipeline";
import * as listActionExecutions from "./list-action-executions";
import * as listActionTypes from "./list-action-types";
import * as listAuditEvents from "./list-audit-events";
import * as listAgentTokens from "./list-agent-tokens";
import * as listAgents from "./list-agents";
import * as listPipelineExecutions from "./list-pipeline-executions";
import * as listPipelines from "./list-pipelines";
import * as logs from "./logs";
import * as notifications from "./notifications";
import * as pipelineWebhook from "./pipeline-webhook";
import * as putApprovalResult from "./put-approval-result";
import * as retryStageExecution from "./retry-stage-execution";
import * as revokeAgentToken from "./revoke-agent-token";
import * as rollbackStage from "./rollback-stage";
import * as secrets from "./secrets";
import * as session from "./session";
import * as startPipelineExecution from "./start-pipeline-execution";
import * as stopPipelineExecution from "./stop-pipeline-execution";
import * as tags from "./tags";
import * as updatePipeline from "./update-pipeline";
import * as waitPipelineExecution from "./wait-pipeline-execution";

const COMMANDS: { register(program: Command, context: ContextFactory): void }[] = [
  listPipelines,
  getPipeline,
  createPipeline,
  updatePipeline,
  deletePipeline,
  importPipeline,
  listActionTypes,
  getPipelineVersions,
  startPipelineExecution,
  waitPipelineExecution,
  getPipelineState,
  getPipelineExecution,
  listPipelineExecutions,
  stopPipelineExecution,
  retryStageExecution,
  rollbackStage,
  putApprovalResult,
  disableStageTransition,
  enableStageTransition,
  logs,
  listAgents,
  createAgentToken,
  listAgentTokens,
  revokeAgentToken,
  identity,
  accounts,
  session,
  notifications,
  secrets,
  pipelineWebhook,
  listAuditEvents,
  customActionType,
  listActionExecutions,
  tags,
  admin,
];

export function registerCommands(program: Command, context: ContextFactory): void {
  for (const command of COMMANDS) command.register(program, context);
}
