import type { Command } from "commander";
import type { ContextFactory } from "../context";

export const LIST_ACTION_TYPES_QUERY =
  "{ actionTypes { id { category owner provider version } description configurationProperties { name required secret description } inputArtifactDetails{minimumCount maximumCount} outputArtifactDetails{minimumCount maximumCount} } }";

interface ListActionTypesData {
  actionTypes: unknown[];
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("list-action-types")
    .description("List the action types pipelines can use.")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const data = await ctx.request<ListActionTypesData>(LIST_ACTION_TYPES_QUERY);
      ctx.print({ actionTypes: data.actionTypes });
    });
}
