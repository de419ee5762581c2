import type { Command } from "commander";
import { awsExecution } from "../aws-shapes";
import type { ContextFactory } from "../context";
import { UNCHECKED_PIPELINE_NAME } from "../options";

export const STOP_EXECUTION_MUTATION =
  "mutation($executionId:ID!,$abandon:Boolean!,$reason:String!){ stopPipelineExecution(input:{executionId:$executionId, abandon:$abandon, reason:$reason}){ pipelineExecution{ id pipelineName status statusSummary } } }";

interface StopExecutionData {
  stopPipelineExecution: { pipelineExecution: { id: string } };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("stop-pipeline-execution")
    .description("Stop an execution: running actions finish first, unless --abandon.")
    .requiredOption("--pipeline-execution-id <id>", "pipeline execution id")
    .option("--pipeline-name <name>", UNCHECKED_PIPELINE_NAME)
    .option("--abandon", "abandon the running actions instead of letting them finish")
    .option("--reason <text>", "why (kept with the execution, at most 200 characters)")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ pipelineExecutionId: string; abandon?: boolean; reason?: string }>();
      const data = await ctx.request<StopExecutionData>(STOP_EXECUTION_MUTATION, {
        executionId: opts.pipelineExecutionId,
        abandon: opts.abandon === true,
        reason: opts.reason ?? "",
      });
      ctx.print(awsExecution(data.stopPipelineExecution.pipelineExecution));
    });
}
