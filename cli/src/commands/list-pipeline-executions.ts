import type { Command } from "commander";
import { awsExecution } from "../aws-shapes";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";
import { alsoAwsName, awsName, EXECUTION_STATUSES, executionStatuses, requiredEitherName } from "../options";
import { addPaginationOptions, listOutput, paginate, type Page, type PaginationOptions } from "../pagination";

export const LIST_PIPELINE_EXECUTIONS_QUERY =
  "query($name:String!,$first:Int!,$after:String,$status:[PipelineExecutionStatus!]){ pipeline(name:$name){ executions(first:$first, after:$after, status:$status){ nodes{ id status statusSummary pipelineVersion startTime lastUpdateTime endTime trigger{ triggerType triggerDetail } sourceRevisions{ actionName revisionId revisionSummary revisionUrl } stages{ name status } } pageInfo{ hasNextPage endCursor } } } }";
/** The largest page the API serves. */
export const EXECUTIONS_PAGE_SIZE = 100;

interface ExecutionNode {
  id: string;
  [field: string]: unknown;
}

interface ListPipelineExecutionsData {
  pipeline: { executions: Page<ExecutionNode> } | null;
}

export function register(program: Command, context: ContextFactory): void {
  addPaginationOptions(
    program
      .command("list-pipeline-executions")
      .description("List a pipeline's executions, newest first (all pages, or up to --max-items).")
      .option("--name <name>", `pipeline name ${alsoAwsName("--pipeline-name")}`)
      .addOption(awsName("--pipeline-name <name>"))
      .option(
        "--status <status>",
        `only executions in this status (repeatable): ${EXECUTION_STATUSES.join(", ")}`,
        executionStatuses,
      ),
    EXECUTIONS_PAGE_SIZE,
  ).action(async (_options: unknown, command: Command) => {
    const ctx = context(command);
    const opts = command.opts<PaginationOptions & { status?: string[] }>();
    const name = requiredEitherName(command, "--name", "--pipeline-name");
    const result = await paginate(opts, EXECUTIONS_PAGE_SIZE, async (first, after) => {
      const data = await ctx.request<ListPipelineExecutionsData>(LIST_PIPELINE_EXECUTIONS_QUERY, {
        name,
        first,
        after,
        status: opts.status ?? null,
      });
      if (!data.pipeline) throw new CliError(`pipeline ${name} not found`);
      return data.pipeline.executions;
    });
    // As `aws codepipeline list-pipeline-executions` (pipelineExecutionId, status, statusSummary, startTime,
    // lastUpdateTime, sourceRevisions, trigger), then what Sluice adds (pipelineVersion, endTime, stages).
    ctx.print(listOutput("pipelineExecutionSummaries", { ...result, items: result.items.map(awsExecution) }));
  });
}
