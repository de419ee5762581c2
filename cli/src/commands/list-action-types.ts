import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { allNodes, PAGE_FIELDS, type Page } from "../pagination";

export const LIST_ACTION_TYPES_QUERY = `query($first:Int!,$after:String){ listActionTypes(first:$first, after:$after) { nodes{ id { category owner provider version } description configurationProperties { name required secret description } inputArtifactDetails{minimumCount maximumCount} outputArtifactDetails{minimumCount maximumCount} } ${PAGE_FIELDS} } }`;

interface ListActionTypesData {
  listActionTypes: Page<unknown>;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("list-action-types")
    .description("List the action types pipelines can use.")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const actionTypes = await allNodes(
        async (first, after) =>
          (await ctx.request<ListActionTypesData>(LIST_ACTION_TYPES_QUERY, { first, after })).listActionTypes,
      );
      ctx.print({ actionTypes });
    });
}
