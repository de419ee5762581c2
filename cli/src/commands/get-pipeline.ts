import { Option, type Command } from "commander";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";
import { positiveInt } from "../options";

export const GET_PIPELINE_QUERY =
  "query($name:String!,$version:Int,$format:DocumentFormat!){ pipeline(name:$name, version:$version){ document(format:$format) } }";

export const FORMATS = { sluice: "SLUICE", aws: "AWS" } as const;
export type FormatName = keyof typeof FORMATS;

interface GetPipelineData {
  pipeline: { document: unknown } | null;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("get-pipeline")
    .description("Print a pipeline document (Sluice or AWS get-pipeline format).")
    .requiredOption("--name <name>", "pipeline name")
    .addOption(
      new Option("--format <format>", "document format").choices(Object.keys(FORMATS)).default("sluice"),
    )
    .option("--pipeline-version <version>", "a past version (default: the current one)", positiveInt)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ name: string; format: FormatName; pipelineVersion?: number }>();
      const data = await ctx.request<GetPipelineData>(GET_PIPELINE_QUERY, {
        name: opts.name,
        version: opts.pipelineVersion ?? null,
        format: FORMATS[opts.format],
      });
      if (!data.pipeline) {
        const version = opts.pipelineVersion === undefined ? "" : ` version ${opts.pipelineVersion}`;
        throw new CliError(`pipeline ${opts.name}${version} not found`);
      }
      ctx.print(data.pipeline.document);
    });
}
