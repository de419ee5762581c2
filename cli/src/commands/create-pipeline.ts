import type { Command } from "commander";
import { isObject } from "../client";
import type { ContextFactory } from "../context";
import { UsageError } from "../errors";
import { pipelineDocumentOf } from "../options";
import { tagArguments, type Tag } from "./tags";

export const CREATE_PIPELINE_MUTATION =
  "mutation($input:PipelineInput!,$tags:[TagInput!]){ createPipelineV2(input:{pipeline:$input,tags:$tags}){ pipeline{ name version } } }";

interface CreatePipelineData {
  createPipelineV2: { pipeline: { name: string; version: number } };
}

/** The `tags` of the AWS CLI form `{ "pipeline": {...}, "tags": [{ "key", "value" }] }`; none otherwise. */
function wrapperTags(input: unknown): Tag[] {
  if (!isObject(input) || !("pipeline" in input) || "name" in input || "stages" in input) return [];
  const tags = input["tags"];
  if (tags === undefined) return [];
  if (!Array.isArray(tags))
    throw new UsageError(`--cli-input-json: "tags" must be a list of { "key", "value" }`);
  try {
    return tagArguments(JSON.stringify(tags), undefined);
  } catch {
    throw new UsageError(`--cli-input-json: "tags" must be a list of { "key", "value" }`);
  }
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("create-pipeline")
    .description("Create a pipeline from a document (or AWS CLI style { pipeline, tags }).")
    .requiredOption("--cli-input-json <json>", "file://path, - (stdin) or the JSON itself")
    .option(
      "--tags <tags...>",
      'tags the pipeline starts with: key=K,value=V (repeatable), or JSON: [{"key":"K","value":"V"}]',
      tagArguments,
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { cliInputJson, tags: given } = command.opts<{ cliInputJson: string; tags?: Tag[] }>();
      const raw = await ctx.readInput(cliInputJson);
      const input = pipelineDocumentOf(raw);
      // The command line's tags, after the input's (a key given in both: the command line's value).
      const tags = [...wrapperTags(raw), ...(given ?? [])];
      const byKey = new Map(tags.map((t) => [t.key, t.value]));
      const variables =
        tags.length > 0 ? { input, tags: [...byKey].map(([key, value]) => ({ key, value })) } : { input };
      const data = await ctx.request<CreatePipelineData>(CREATE_PIPELINE_MUTATION, variables);
      ctx.print({ pipeline: data.createPipelineV2.pipeline });
    });
}
