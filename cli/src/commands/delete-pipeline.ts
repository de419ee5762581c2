import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";

export const DELETE_PIPELINE_MUTATION = "mutation($name:String!){ deletePipeline(name:$name) }";

interface DeletePipelineData {
  deletePipeline: boolean;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("delete-pipeline")
    .description("Delete a pipeline. Prints nothing on success.")
    .requiredOption("--name <name>", "pipeline name")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { name } = command.opts<{ name: string }>();
      const data = await ctx.request<DeletePipelineData>(DELETE_PIPELINE_MUTATION, { name });
      if (data.deletePipeline !== true) throw new CliError(`pipeline ${name} not found`);
    });
}
