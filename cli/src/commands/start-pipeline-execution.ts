import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { UsageError } from "../errors";
import { waitAndReport } from "../execution-wait";
import { keyValuePairs, timeoutSeconds, uniqueKeys } from "../options";

export const START_EXECUTION_MUTATION =
  "mutation($pipelineName:String!,$sourceRevisions:[SourceRevisionInput!],$variables:[PipelineVariableOverride!],$clientRequestToken:String){ startPipelineExecution(input:{pipelineName:$pipelineName, sourceRevisions:$sourceRevisions, variables:$variables, clientRequestToken:$clientRequestToken}){ pipelineExecution{ id } } }";

interface StartExecutionData {
  startPipelineExecution: { pipelineExecution: { id: string } };
}

interface StartOptions {
  name: string;
  variable?: [string, string][];
  sourceRevision?: [string, string][];
  clientRequestToken?: string;
  wait?: boolean;
  timeout?: number;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("start-pipeline-execution")
    .description("Start an execution; with --wait, follow it until it ends (exit 0 only if it succeeded).")
    .requiredOption("--name <name>", "pipeline name")
    .option(
      "--variable <Name=Value>",
      "set a pipeline variable for this execution (repeatable)",
      keyValuePairs("Name=Value"),
    )
    .option(
      "--source-revision <Action=RevisionId>",
      "the revision a source action uses, e.g. Checkout=4f1c2e0 (repeatable; default: the latest)",
      keyValuePairs("Action=RevisionId"),
    )
    .option("--client-request-token <token>", "idempotency token: the same token twice starts one execution")
    .option("--wait", "follow the execution until it ends; its changes go to stderr")
    .option("--timeout <seconds>", "with --wait: give up waiting after this long (exit 1)", timeoutSeconds)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<StartOptions>();
      if (opts.timeout !== undefined && !opts.wait) throw new UsageError("--timeout needs --wait");
      const variables = uniqueKeys(opts.variable ?? [], "--variable");
      const revisions = uniqueKeys(opts.sourceRevision ?? [], "--source-revision");
      const data = await ctx.request<StartExecutionData>(START_EXECUTION_MUTATION, {
        pipelineName: opts.name,
        sourceRevisions:
          revisions.length === 0
            ? null
            : revisions.map(([actionName, revisionId]) => ({ actionName, revisionId })),
        variables: variables.length === 0 ? null : variables.map(([name, value]) => ({ name, value })),
        clientRequestToken: opts.clientRequestToken ?? null,
      });
      const { id } = data.startPipelineExecution.pipelineExecution;
      if (!opts.wait) return ctx.print({ pipelineExecutionId: id });
      ctx.notice(
        `started execution ${id} of pipeline ${opts.name}; waiting for it to end (Ctrl-C stops waiting, not the execution)`,
      );
      await waitAndReport(ctx, id, opts.timeout);
    });
}
