import type { Command } from "commander";
import type { ContextFactory } from "../context";
import * as createAgentToken from "./create-agent-token";
import * as createPipeline from "./create-pipeline";
import * as deletePipeline from "./delete-pipeline";
import * as getPipeline from "./get-pipeline";
import * as getPipelineVersions from "./get-pipeline-versions";
import * as importPipeline from "./import-pipeline";
import * as listActionTypes from "./list-action-types";
import * as listAgentTokens from "./list-agent-tokens";
import * as listAgents from "./list-agents";
import * as listPipelines from "./list-pipelines";
import * as logs from "./logs";
import * as revokeAgentToken from "./revoke-agent-token";
import * as updatePipeline from "./update-pipeline";

const COMMANDS: { register(program: Command, context: ContextFactory): void }[] = [
  listPipelines,
  getPipeline,
  createPipeline,
  updatePipeline,
  deletePipeline,
  importPipeline,
  listActionTypes,
  getPipelineVersions,
  logs,
  listAgents,
  createAgentToken,
  listAgentTokens,
  revokeAgentToken,
];

export function registerCommands(program: Command, context: ContextFactory): void {
  for (const command of COMMANDS) command.register(program, context);
}
