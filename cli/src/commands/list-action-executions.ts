/**
 * `list-action-executions` as `aws codepipeline` has it: the action executions (every attempt) of a
 * pipeline's executions, newest execution first, in AWS's `actionExecutionDetails` shape. The API has
 * no such list: it reads the executions (with their actions' attempts) page by page and flattens them.
 * A page of executions is then a page of action executions, so the pagination options and NextToken
 * work as for the other lists (the token's offset counts action executions within the page).
 */
import { InvalidArgumentError, type Command } from "commander";
import type { ContextFactory } from "../context";
import { CliError } from "../errors";
import { addPaginationOptions, listOutput, paginate, type Page, type PaginationOptions } from "../pagination";

const EXECUTION_FIELDS =
  "id pipelineVersion stages{ name actions{ name actionTypeId{ category owner provider version } attempts{ id attempt status summary startTime endTime externalUrl errorDetails{ code message } resolvedConfiguration outputVariables agent{ id name } } } }";
export const LIST_ACTION_EXECUTIONS_QUERY = `query($name:String!,$first:Int!,$after:String){ pipeline(name:$name){ executions(first:$first, after:$after){ nodes{ ${EXECUTION_FIELDS} } pageInfo{ hasNextPage endCursor } } } }`;
export const ACTION_EXECUTIONS_OF_QUERY = `query($id:ID!){ pipelineExecution(id:$id){ pipelineName ${EXECUTION_FIELDS} } }`;
/** Executions per request (each brings all its attempts). */
export const EXECUTIONS_PER_PAGE = 20;

interface Attempt {
  id: string;
  attempt: number;
  status: string;
  summary: string | null;
  startTime: string | null;
  endTime: string | null;
  externalUrl: string | null;
  errorDetails: unknown;
  resolvedConfiguration: unknown;
  outputVariables: unknown;
  agent: unknown;
}

interface Execution {
  id: string;
  pipelineName?: string;
  pipelineVersion: number;
  stages: { name: string; actions: { name: string; actionTypeId: unknown; attempts: Attempt[] }[] }[];
}

/** `--filter pipelineExecutionId=E` (the AWS CLI's shorthand) or `--filter '{"pipelineExecutionId":"E"}'`. */
export function executionFilter(value: string): string {
  let id: unknown;
  if (value.trim().startsWith("{")) {
    try {
      id = (JSON.parse(value) as { pipelineExecutionId?: unknown }).pipelineExecutionId;
    } catch {
      throw new InvalidArgumentError("expected pipelineExecutionId=<id> or its JSON form.");
    }
  } else if (value.startsWith("pipelineExecutionId=")) {
    id = value.slice("pipelineExecutionId=".length);
  }
  if (typeof id !== "string" || id === "") {
    throw new InvalidArgumentError("expected pipelineExecutionId=<id> or its JSON form.");
  }
  return id;
}

/** The execution's attempts as AWS's ActionExecutionDetail, the newest first. */
function details(execution: Execution): Record<string, unknown>[] {
  const rows = execution.stages.flatMap((stage) =>
    stage.actions.flatMap((action) =>
      action.attempts.map((attempt) => ({
        pipelineExecutionId: execution.id,
        actionExecutionId: attempt.id,
        pipelineVersion: execution.pipelineVersion,
        stageName: stage.name,
        actionName: action.name,
        startTime: attempt.startTime,
        lastUpdateTime: attempt.endTime ?? attempt.startTime,
        status: attempt.status,
        input: { actionTypeId: action.actionTypeId, resolvedConfiguration: attempt.resolvedConfiguration },
        output: {
          executionResult: {
            externalExecutionSummary: attempt.summary,
            externalExecutionUrl: attempt.externalUrl,
            errorDetails: attempt.errorDetails,
          },
          outputVariables: attempt.outputVariables,
        },
        attempt: attempt.attempt,
        agent: attempt.agent,
      })),
    ),
  );
  return rows.sort((a, b) => String(b.startTime ?? "").localeCompare(String(a.startTime ?? "")));
}

export function register(program: Command, context: ContextFactory): void {
  addPaginationOptions(
    program
      .command("list-action-executions")
      .description("List the action executions (attempts) of a pipeline's executions, newest first.")
      .requiredOption("--pipeline-name <name>", "pipeline name")
      .option("--filter <filter>", "only this execution: pipelineExecutionId=<id>", executionFilter),
    EXECUTIONS_PER_PAGE,
  ).action(async (_options: unknown, command: Command) => {
    const ctx = context(command);
    const opts = command.opts<PaginationOptions & { pipelineName: string; filter?: string }>();
    const result = await paginate<Record<string, unknown>>(
      // A page of executions must be the same one when a NextToken resumes it: no smaller last page.
      { ...opts, pageSize: opts.pageSize ?? EXECUTIONS_PER_PAGE },
      EXECUTIONS_PER_PAGE,
      async (first, after): Promise<Page<Record<string, unknown>>> => {
        if (opts.filter !== undefined) {
          const data = await ctx.request<{ pipelineExecution: Execution | null }>(
            ACTION_EXECUTIONS_OF_QUERY,
            {
              id: opts.filter,
            },
          );
          const execution = data.pipelineExecution;
          if (!execution || execution.pipelineName !== opts.pipelineName) {
            throw new CliError(`pipeline ${opts.pipelineName} has no execution ${opts.filter}`);
          }
          return { nodes: details(execution), pageInfo: { hasNextPage: false, endCursor: null } };
        }
        const data = await ctx.request<{ pipeline: { executions: Page<Execution> } | null }>(
          LIST_ACTION_EXECUTIONS_QUERY,
          { name: opts.pipelineName, first, after },
        );
        if (!data.pipeline) throw new CliError(`pipeline ${opts.pipelineName} not found`);
        const { nodes, pageInfo } = data.pipeline.executions;
        return { nodes: nodes.flatMap(details), pageInfo };
      },
    );
    ctx.print(listOutput("actionExecutionDetails", result));
  });
}
