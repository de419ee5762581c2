import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { pipelineDocumentOf } from "../options";

export const CREATE_PIPELINE_MUTATION =
  "mutation($input:PipelineInput!){ createPipeline(input:$input){ name version } }";

interface CreatePipelineData {
  createPipeline: { name: string; version: number };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("create-pipeline")
    .description("Create a pipeline from a document (or AWS CLI style { pipeline }).")
    .requiredOption("--cli-input-json <json>", "file://path, - (stdin) or the JSON itself")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { cliInputJson } = command.opts<{ cliInputJson: string }>();
      const input = pipelineDocumentOf(await ctx.readInput(cliInputJson));
      const data = await ctx.request<CreatePipelineData>(CREATE_PIPELINE_MUTATION, { input });
      ctx.print({ pipeline: data.createPipeline });
    });
}
