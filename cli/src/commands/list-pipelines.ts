import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { addPaginationOptions, listOutput, paginate, type Page, type PaginationOptions } from "../pagination";

export const LIST_PIPELINES_QUERY =
  "query($first:Int,$after:String){ pipelines(first:$first, after:$after){ nodes{ name version executionMode createdAt updatedAt } pageInfo{ hasNextPage endCursor } } }";
export const PAGE_SIZE = 100;

interface PipelineNode {
  name: string;
  version: number;
  executionMode: string;
  createdAt: string;
  updatedAt: string;
}

/** A pipeline as `aws codepipeline list-pipelines` prints it. */
export interface PipelineSummary {
  name: string;
  version: number;
  executionMode: string;
  created: string;
  updated: string;
}

export function register(program: Command, context: ContextFactory): void {
  addPaginationOptions(
    program.command("list-pipelines").description("List pipelines (all pages, or up to --max-items)."),
    PAGE_SIZE,
  ).action(async (_options: unknown, command: Command) => {
    const ctx = context(command);
    const result = await paginate(command.opts<PaginationOptions>(), PAGE_SIZE, async (first, after) => {
      const data = await ctx.request<{ pipelines: Page<PipelineNode> }>(LIST_PIPELINES_QUERY, {
        first,
        after,
      });
      return data.pipelines;
    });
    const pipelines: PipelineSummary[] = result.items.map((p) => ({
      name: p.name,
      version: p.version,
      executionMode: p.executionMode,
      created: p.createdAt,
      updated: p.updatedAt,
    }));
    ctx.print(listOutput("pipelines", { ...result, items: pipelines }));
  });
}
