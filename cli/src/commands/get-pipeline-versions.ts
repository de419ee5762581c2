import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";

export const GET_PIPELINE_VERSIONS_QUERY =
  "query($name:String!){ pipeline(name:$name){ versions(first:100){ nodes{ version createdAt createdBy } } } }";

interface PipelineVersion {
  version: number;
  createdAt: string;
  createdBy: string | null;
}

interface GetPipelineVersionsData {
  pipeline: { versions: { nodes: PipelineVersion[] } } | null;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("get-pipeline-versions")
    .description("List a pipeline's versions (up to 100).")
    .requiredOption("--name <name>", "pipeline name")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { name } = command.opts<{ name: string }>();
      const data = await ctx.request<GetPipelineVersionsData>(GET_PIPELINE_VERSIONS_QUERY, { name });
      if (!data.pipeline) throw new CliError(`pipeline ${name} not found`);
      ctx.print({ versions: data.pipeline.versions.nodes });
    });
}
