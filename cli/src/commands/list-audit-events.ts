import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { addPaginationOptions, listOutput, paginate, type Page, type PaginationOptions } from "../pagination";

export const LIST_AUDIT_EVENTS_QUERY =
  "query($first:Int!,$after:String,$pipelineName:String,$principal:String,$operation:String){ auditEvents(first:$first, after:$after, pipelineName:$pipelineName, principal:$principal, operation:$operation){ nodes{ id at principal operation target pipelineName outcome error requestId arguments occurrences } pageInfo{ hasNextPage endCursor } } }";
/** The largest page the API serves. */
export const AUDIT_PAGE_SIZE = 100;

interface Filters {
  pipelineName?: string;
  principal?: string;
  operation?: string;
}

export function register(program: Command, context: ContextFactory): void {
  addPaginationOptions(
    program
      .command("list-audit-events")
      .description("List the audit log (every mutation), newest first.")
      .option("--pipeline-name <name>", "only the events about this pipeline")
      .option("--principal <principal>", "only the events of this principal (e.g. admin, token:<id>)")
      .option("--operation <operation>", "only this operation, e.g. createPipeline"),
    AUDIT_PAGE_SIZE,
  ).action(async (_options: unknown, command: Command) => {
    const ctx = context(command);
    const opts = command.opts<PaginationOptions & Filters>();
    const result = await paginate(opts, AUDIT_PAGE_SIZE, async (first, after) => {
      const data = await ctx.request<{ auditEvents: Page<unknown> }>(LIST_AUDIT_EVENTS_QUERY, {
        first,
        after,
        pipelineName: opts.pipelineName ?? null,
        principal: opts.principal ?? null,
        operation: opts.operation ?? null,
      });
      return data.auditEvents;
    });
    ctx.print(listOutput("auditEvents", result));
  });
}
