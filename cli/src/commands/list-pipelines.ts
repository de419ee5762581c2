import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";
import { positiveInt } from "../options";

export const LIST_PIPELINES_QUERY =
  "query($first:Int,$after:String){ pipelines(first:$first, after:$after){ nodes{ name version executionMode createdAt updatedAt } pageInfo{ hasNextPage endCursor } } }";
export const PAGE_SIZE = 100;

export interface PipelineSummary {
  name: string;
  version: number;
  executionMode: string;
  createdAt: string;
  updatedAt: string;
}

interface ListPipelinesData {
  pipelines: {
    nodes: PipelineSummary[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("list-pipelines")
    .description("List pipelines (all pages, or up to --max-items).")
    .option("--max-items <n>", "stop after this many pipelines", positiveInt)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { maxItems } = command.opts<{ maxItems?: number }>();
      const pipelines: PipelineSummary[] = [];
      let after: string | null = null;
      for (;;) {
        const data: ListPipelinesData = await ctx.request<ListPipelinesData>(LIST_PIPELINES_QUERY, {
          first: PAGE_SIZE,
          after,
        });
        pipelines.push(...data.pipelines.nodes);
        if (maxItems !== undefined && pipelines.length >= maxItems) break;
        const { hasNextPage, endCursor } = data.pipelines.pageInfo;
        if (!hasNextPage) break;
        if (!endCursor || endCursor === after) {
          throw new CliError(
            `cannot follow pages: hasNextPage is true but endCursor is ${JSON.stringify(endCursor)}`,
          );
        }
        after = endCursor;
      }
      ctx.print({ pipelines: maxItems === undefined ? pipelines : pipelines.slice(0, maxItems) });
    });
}
