import type { Command } from "commander";
import { awsStageState, type StageStateNode } from "../aws-shapes";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";

const WAITING_REASON =
  "waitingReason{ code message since blockedBy{ executionId position approvalPending disabledBy disabledReason } }";
export const GET_PIPELINE_STATE_QUERY = `query($name:String!){ pipeline(name:$name){ name version createdAt updatedAt state{ stages{ name inboundTransition{ enabled disabledReason disabledBy disabledAt } latestExecution{ executionId status } waitingExecutions{ executionId ${WAITING_REASON} } actions{ name latestExecution{ actionExecutionId executionId attempt status summary approvalPending lastStatusChange externalUrl errorDetails{ code message } } } } } } }`;

interface GetPipelineStateData {
  pipeline: {
    name: string;
    version: number;
    createdAt: string;
    updatedAt: string;
    state: { stages: StageStateNode[] };
  } | null;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("get-pipeline-state")
    .description("Print each stage's transition, latest and waiting executions, and actions' latest runs.")
    .requiredOption("--name <name>", "pipeline name")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { name } = command.opts<{ name: string }>();
      const data = await ctx.request<GetPipelineStateData>(GET_PIPELINE_STATE_QUERY, { name });
      if (!data.pipeline) throw new CliError(`pipeline ${name} not found`);
      const { pipeline } = data;
      ctx.print({
        pipelineName: pipeline.name,
        pipelineVersion: pipeline.version,
        stageStates: pipeline.state.stages.map(awsStageState),
        created: pipeline.createdAt,
        updated: pipeline.updatedAt,
      });
    });
}
