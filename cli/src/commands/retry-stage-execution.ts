import { Option, type Command } from "commander";
import { awsExecution } from "../aws-shapes";
import type { ContextFactory } from "../context";
import { UNCHECKED_PIPELINE_NAME } from "../options";

export const RETRY_STAGE_MUTATION =
  "mutation($executionId:ID!,$stageName:String!,$mode:StageRetryMode!){ retryStageExecution(input:{executionId:$executionId, stageName:$stageName, mode:$mode}){ pipelineExecution{ id pipelineName status statusSummary stages{ name status } } } }";
export const RETRY_MODES = ["FAILED_ACTIONS", "ALL_ACTIONS"] as const;

interface RetryStageData {
  retryStageExecution: { pipelineExecution: { id: string } };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("retry-stage-execution")
    .description("Re-run a failed or stopped stage of an execution.")
    .requiredOption("--pipeline-execution-id <id>", "pipeline execution id")
    .requiredOption("--stage-name <name>", "the stage to re-run")
    .option("--pipeline-name <name>", UNCHECKED_PIPELINE_NAME)
    .addOption(
      new Option(
        "--retry-mode <mode>",
        "FAILED_ACTIONS: the failed and abandoned actions; ALL_ACTIONS: every action",
      )
        .choices(RETRY_MODES)
        .default("FAILED_ACTIONS"),
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ pipelineExecutionId: string; stageName: string; retryMode: string }>();
      const data = await ctx.request<RetryStageData>(RETRY_STAGE_MUTATION, {
        executionId: opts.pipelineExecutionId,
        stageName: opts.stageName,
        mode: opts.retryMode,
      });
      ctx.print(awsExecution(data.retryStageExecution.pipelineExecution));
    });
}
