import type { Command } from "commander";
import type { ContextFactory } from "../context";

export const DELETE_PIPELINE_MUTATION =
  "mutation($name:String!){ deletePipelineV2(input:{name:$name}){ deletedPipelineName } }";

export function register(program: Command, context: ContextFactory): void {
  program
    .command("delete-pipeline")
    .description("Delete a pipeline. Prints nothing on success.")
    .requiredOption("--name <name>", "pipeline name")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { name } = command.opts<{ name: string }>();
      // An unknown pipeline: the server answers NOT_FOUND, which fails the command.
      await ctx.request<{ deletePipelineV2: { deletedPipelineName: string } }>(DELETE_PIPELINE_MUTATION, {
        name,
      });
    });
}
