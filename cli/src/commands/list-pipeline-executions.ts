import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";
import {
  alsoAwsName,
  awsName,
  EXECUTION_STATUSES,
  executionStatuses,
  positiveInt,
  requiredEitherName,
} from "../options";

export const LIST_PIPELINE_EXECUTIONS_QUERY =
  "query($name:String!,$first:Int!,$after:String,$status:[String!]){ pipeline(name:$name){ executions(first:$first, after:$after, status:$status){ nodes{ id status statusSummary pipelineVersion startTime lastUpdateTime endTime trigger{ triggerType triggerDetail } sourceRevisions{ actionName revisionId revisionSummary revisionUrl } stages{ name status } } pageInfo{ hasNextPage endCursor } } } }";
/** The largest page the API serves. */
export const EXECUTIONS_PAGE_SIZE = 100;
export const DEFAULT_MAX_EXECUTIONS = 100;

interface ListPipelineExecutionsData {
  pipeline: {
    executions: {
      nodes: unknown[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  } | null;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("list-pipeline-executions")
    .description("List a pipeline's executions, newest first (up to --max-items).")
    .option("--name <name>", `pipeline name ${alsoAwsName("--pipeline-name")}`)
    .addOption(awsName("--pipeline-name <name>"))
    .option(
      "--status <status>",
      `only executions in this status (repeatable): ${EXECUTION_STATUSES.join(", ")}`,
      executionStatuses,
    )
    .option("--max-items <n>", "stop after this many executions", positiveInt, DEFAULT_MAX_EXECUTIONS)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ status?: string[]; maxItems: number }>();
      const name = requiredEitherName(command, "--name", "--pipeline-name");
      const executions: unknown[] = [];
      let after: string | null = null;
      while (executions.length < opts.maxItems) {
        const data: ListPipelineExecutionsData = await ctx.request<ListPipelineExecutionsData>(
          LIST_PIPELINE_EXECUTIONS_QUERY,
          {
            name,
            first: Math.min(EXECUTIONS_PAGE_SIZE, opts.maxItems - executions.length),
            after,
            status: opts.status ?? null,
          },
        );
        if (!data.pipeline) throw new CliError(`pipeline ${name} not found`);
        const { nodes, pageInfo } = data.pipeline.executions;
        executions.push(...nodes);
        if (!pageInfo.hasNextPage) break;
        if (!pageInfo.endCursor || pageInfo.endCursor === after) {
          throw new CliError(
            `cannot follow pages: hasNextPage is true but endCursor is ${JSON.stringify(pageInfo.endCursor)}`,
          );
        }
        after = pageInfo.endCursor;
      }
      ctx.print({ pipelineExecutions: executions.slice(0, opts.maxItems) });
    });
}
