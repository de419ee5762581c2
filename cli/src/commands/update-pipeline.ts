import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { CliError, UsageError } from "../errors";
import { pipelineDocumentOf, positiveInt } from "../options";

export const CURRENT_VERSION_QUERY = "query($name:String!){ pipeline(name:$name){ version } }";
export const UPDATE_PIPELINE_MUTATION =
  "mutation($input:PipelineInput!,$expectedVersion:Int!){ updatePipelineV2(input:{pipeline:$input, expectedVersion:$expectedVersion}){ pipeline{ name version } } }";

interface CurrentVersionData {
  pipeline: { version: number } | null;
}

interface UpdatePipelineData {
  updatePipelineV2: { pipeline: { name: string; version: number } };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("update-pipeline")
    .description("Replace a pipeline's document, creating a new version.")
    .requiredOption("--cli-input-json <json>", "file://path, - (stdin) or the JSON itself")
    .option(
      "--expected-version <version>",
      "fail unless this is the current version (default: the current version, fetched first)",
      positiveInt,
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ cliInputJson: string; expectedVersion?: number }>();
      const input = pipelineDocumentOf(await ctx.readInput(opts.cliInputJson));
      let expectedVersion = opts.expectedVersion;
      if (expectedVersion === undefined) {
        const name = input["name"];
        if (typeof name !== "string" || name === "") {
          throw new UsageError('the document has no "name"; cannot look up its current version');
        }
        const current = await ctx.request<CurrentVersionData>(CURRENT_VERSION_QUERY, { name });
        if (!current.pipeline) throw new CliError(`pipeline ${name} not found`);
        expectedVersion = current.pipeline.version;
      }
      const data = await ctx.request<UpdatePipelineData>(UPDATE_PIPELINE_MUTATION, {
        input,
        expectedVersion,
      });
      ctx.print({ pipeline: data.updatePipelineV2.pipeline });
    });
}
