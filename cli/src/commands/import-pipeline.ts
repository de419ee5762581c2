import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { requireObject } from "../options";

export const IMPORT_PIPELINE_MUTATION =
  "mutation($document:JSON!){ importPipelineV2(input:{document:$document}){ pipeline{ name version } warnings{ path message } } }";

interface ImportPipelineData {
  importPipelineV2: {
    pipeline: { name: string; version: number };
    warnings: { path: string; message: string }[];
  };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("import-pipeline")
    .description("Import a Sluice document or AWS get-pipeline output, as is.")
    .requiredOption("--cli-input-json <json>", "file://path, - (stdin) or the JSON itself")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { cliInputJson } = command.opts<{ cliInputJson: string }>();
      const document = requireObject(await ctx.readInput(cliInputJson), "a Sluice or AWS pipeline document");
      const data = await ctx.request<ImportPipelineData>(IMPORT_PIPELINE_MUTATION, { document });
      const { pipeline, warnings } = data.importPipelineV2;
      ctx.print({ pipeline, warnings });
    });
}
