import type { Command } from "commander";
import { awsExecution } from "../aws-shapes";
import type { ContextFactory } from "../context";
import { alsoAwsName, awsName, requiredEitherName } from "../options";

export const ROLLBACK_STAGE_MUTATION =
  "mutation($pipelineName:String!,$stageName:String!,$targetExecutionId:ID!){ rollbackStageV2(input:{pipelineName:$pipelineName, stageName:$stageName, targetExecutionId:$targetExecutionId}){ pipelineExecution{ id pipelineName status trigger{ triggerType triggerDetail } } } }";

interface RollbackStageData {
  rollbackStageV2: { pipelineExecution: { id: string } };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("rollback-stage")
    .description("Start an execution re-running a stage with what an earlier successful one used.")
    .option("--name <name>", `pipeline name ${alsoAwsName("--pipeline-name")}`)
    .addOption(awsName("--pipeline-name <name>"))
    .requiredOption("--stage-name <name>", "the stage to roll back")
    .requiredOption("--target-pipeline-execution-id <id>", "the earlier execution to go back to")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ stageName: string; targetPipelineExecutionId: string }>();
      const pipelineName = requiredEitherName(command, "--name", "--pipeline-name");
      const data = await ctx.request<RollbackStageData>(ROLLBACK_STAGE_MUTATION, {
        pipelineName,
        stageName: opts.stageName,
        targetExecutionId: opts.targetPipelineExecutionId,
      });
      ctx.print(awsExecution(data.rollbackStageV2.pipelineExecution));
    });
}
