import type { Command } from "commander";
import { awsExecution } from "../aws-shapes";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";

const ATTEMPT_FIELDS =
  "id attempt status summary failureCause failureType approvalPending approval{ approved summary by at } agent{ id name } queuedAt startTime endTime externalUrl errorDetails{ code message }";
const ACTION_FIELDS = `name id runOrder actionTypeId{ category owner provider version } status summary attempt approvalPending approval{ approved summary by at } agent{ id name } startTime endTime retryAt externalUrl failureType errorDetails{ code message } waitingReason{ code message since } attempts{ ${ATTEMPT_FIELDS} }`;
export const GET_PIPELINE_EXECUTION_QUERY = `query($id:ID!){ pipelineExecution(id:$id){ id pipelineName pipelineVersion status statusSummary sequence startTime lastUpdateTime endTime trigger{ triggerType triggerDetail } sourceRevisions{ actionName revisionId revisionSummary revisionUrl } variables{ name resolvedValue } currentStage{ stageName entered } waitingReason{ code message since blockedBy{ executionId position approvalPending disabledBy disabledReason } } stages{ name status startTime endTime actions{ ${ACTION_FIELDS} } } } }`;

interface GetPipelineExecutionData {
  pipelineExecution: Record<string, unknown> | null;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("get-pipeline-execution")
    .description("Print an execution with its revisions, variables, stages, actions and attempts.")
    .requiredOption("--pipeline-execution-id <id>", "pipeline execution id")
    .option("--pipeline-name <name>", "AWS CLI option: exit 1 unless the execution belongs to this pipeline")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { pipelineExecutionId: id, pipelineName } = command.opts<{
        pipelineExecutionId: string;
        pipelineName?: string;
      }>();
      const data = await ctx.request<GetPipelineExecutionData>(GET_PIPELINE_EXECUTION_QUERY, { id });
      if (!data.pipelineExecution) throw new CliError(`execution ${id} not found`);
      const belongsTo = data.pipelineExecution["pipelineName"];
      if (pipelineName !== undefined && belongsTo !== pipelineName) {
        throw new CliError(`execution ${id} belongs to pipeline ${String(belongsTo)}, not ${pipelineName}`);
      }
      ctx.print({ pipelineExecution: awsExecution(data.pipelineExecution as { id: unknown }) });
    });
}
