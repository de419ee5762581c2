import type { Command } from "commander";
import type { CommandContext, ContextFactory } from "../context";
import { CliError, UsageError } from "../errors";
import { positiveInt } from "../options";
import { ActionNotStartedError, waitForActionStart, type ExecutionActions } from "./logs-wait";

export const EXECUTION_ACTIONS_QUERY =
  "query($id:ID!){ pipelineExecution(id:$id){ id status stages{ name actions{ name id attempt attempts{ id attempt } } } } }";
export const ACTION_LOG_QUERY =
  "query($id:ID!,$after:Int,$afterCursor:String,$first:Int){ actionLog(actionExecutionId:$id, after:$after, afterCursor:$afterCursor, first:$first){ nodes{ sequence at stream text } hasNextPage endCursor cursor complete } }";
export const ACTION_LOG_SUBSCRIPTION =
  "subscription($id:ID!,$after:Int,$afterCursor:String){ actionLog(actionExecutionId:$id, after:$after, afterCursor:$afterCursor){ sequence at stream text } }";
/** Lines per actionLog page (the server's default; it allows up to 10000). */
export const LOG_PAGE_SIZE = 1000;

export interface LogLine {
  sequence: number;
  at: string;
  stream: "stdout" | "stderr" | "system";
  text: string;
}

interface ExecutionActionsData {
  /** An action's `id` is its current attempt's; null before it starts. */
  pipelineExecution: ExecutionActions | null;
}

interface ActionLogData {
  actionLog: {
    nodes: LogLine[];
    hasNextPage: boolean;
    endCursor: number;
    /** Where the next page starts in the log's stream (opaque): reading from it skips nothing. */
    cursor?: string | null;
    complete: boolean;
  };
}

interface ActionLogEventData {
  actionLog: LogLine;
}

interface LogsOptions {
  execution: string;
  action: string;
  stage?: string;
  attempt?: number;
  follow?: boolean;
  timestamps?: boolean;
  output: "text" | "json";
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("logs")
    .description(
      "Print the log of an action execution (one attempt); with --follow, keep printing until it ends.",
    )
    .requiredOption("--execution <id>", "pipeline execution id")
    .requiredOption("--action <name>", "action name")
    .option("--stage <name>", "stage name (only needed when two stages have an action of that name)")
    .option("--attempt <n>", "attempt number (default: the current attempt)", positiveInt)
    .option("--follow", "after the stored lines, print new lines as they come until the attempt ends")
    .option("--timestamps", "text output: prefix each line with its ISO time")
    .addHelpText(
      "after",
      "\n--output text (the default here) prints the lines; json, one JSON object per line.",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const output = ctx.output ?? "text";
      if (output !== "text" && output !== "json") {
        throw new UsageError(`logs prints lines: --output text (the default) or json, not ${output}`);
      }
      const opts: LogsOptions = { ...command.opts<Omit<LogsOptions, "output">>(), output };
      const data = await ctx.request<ExecutionActionsData>(EXECUTION_ACTIONS_QUERY, { id: opts.execution });
      if (!data.pipelineExecution) throw new CliError(`execution ${opts.execution} not found`);
      let actionExecutionId: string;
      try {
        actionExecutionId = selectAttempt(data.pipelineExecution, opts);
      } catch (err) {
        // With --follow, an action that has not started yet is waited for (its current attempt).
        if (!(err instanceof ActionNotStartedError && opts.follow && opts.attempt === undefined)) throw err;
        const started = await waitForActionStart(
          ctx,
          data.pipelineExecution,
          err.message,
          (execution) => selectAttempt(execution, opts),
          async () =>
            (await ctx.request<ExecutionActionsData>(EXECUTION_ACTIONS_QUERY, { id: opts.execution }))
              .pipelineExecution,
        );
        if (started === undefined) return; // Ctrl-C while waiting
        actionExecutionId = started;
      }
      await printLog(ctx, actionExecutionId, opts);
    });
}

/** The id of the action execution (attempt) the options name. */
export function selectAttempt(execution: ExecutionActions, opts: LogsOptions): string {
  const all = execution.stages.flatMap((stage) =>
    stage.actions.map((action) => ({ stage: stage.name, action })),
  );
  const matches = all.filter(
    (a) => a.action.name === opts.action && (opts.stage === undefined || a.stage === opts.stage),
  );
  if (matches.length === 0) {
    const where = opts.stage === undefined ? "" : ` in stage ${opts.stage}`;
    const existing =
      all.length === 0
        ? "it has no actions"
        : `its actions: ${all.map((a) => `${a.stage}/${a.action.name}`).join(", ")}`;
    throw new CliError(`execution ${execution.id} has no action ${opts.action}${where}; ${existing}`);
  }
  if (matches.length > 1) {
    const stages = matches.map((a) => a.stage).join(", ");
    throw new UsageError(
      `action ${opts.action} is in more than one stage of execution ${execution.id} (${stages}): choose one with --stage`,
    );
  }
  const { stage, action } = matches[0]!;
  const label = `action ${stage}/${action.name}`;
  const numbers = action.attempts.map((a) => a.attempt).join(", ");
  if (opts.attempt !== undefined) {
    const found = action.attempts.find((a) => a.attempt === opts.attempt);
    if (found) return found.id;
    const known = numbers === "" ? "it has not started yet" : `its attempts: ${numbers}`;
    throw new CliError(`${label} has no attempt ${opts.attempt}; ${known}`);
  }
  if (action.id === null) {
    const earlier = numbers === "" ? "" : ` (earlier attempts: ${numbers}; choose one with --attempt)`;
    throw new ActionNotStartedError(`${label} has not started yet${earlier}`);
  }
  return action.id;
}

/** Prints the stored lines page by page, then (with --follow) the new ones until the attempt ends. */
async function printLog(ctx: CommandContext, actionExecutionId: string, opts: LogsOptions): Promise<void> {
  let last = 0;
  const emit = (line: LogLine) => {
    if (line.sequence <= last) return; // already printed
    last = line.sequence;
    ctx.write(formatLine(line, opts));
  };

  let after = 0;
  // The line number and, from the second page on, the cursor that names the same place in the
  // stream: the server reads on from there instead of counting lines from the start.
  let afterCursor: string | undefined;
  let complete: boolean;
  for (;;) {
    const { actionLog: page }: ActionLogData = await ctx.request<ActionLogData>(ACTION_LOG_QUERY, {
      id: actionExecutionId,
      after,
      ...(afterCursor === undefined ? {} : { afterCursor }),
      first: LOG_PAGE_SIZE,
    });
    for (const line of page.nodes) emit(line);
    const cursor = typeof page.cursor === "string" ? page.cursor : undefined;
    if (!page.hasNextPage) {
      complete = page.complete;
      afterCursor = page.endCursor >= last ? cursor : undefined;
      after = Math.max(page.endCursor, last);
      break;
    }
    if (!(page.endCursor > after)) {
      throw new CliError(
        `cannot follow pages: hasNextPage is true but endCursor ${page.endCursor} does not come after ${after}`,
      );
    }
    after = page.endCursor;
    afterCursor = cursor;
  }

  // A complete log will not grow: nothing to follow.
  if (!opts.follow || complete) return;
  const controller = new AbortController();
  const stopListening = ctx.onInterrupt(() => controller.abort());
  try {
    await ctx.subscribe<ActionLogEventData>({
      query: ACTION_LOG_SUBSCRIPTION,
      variables: { id: actionExecutionId, after, ...(afterCursor === undefined ? {} : { afterCursor }) },
      onData: (data) => emit(data.actionLog),
      signal: controller.signal,
    });
  } finally {
    stopListening();
  }
}

function formatLine(line: LogLine, opts: LogsOptions): string {
  if (opts.output === "json") {
    const { sequence, at, stream, text } = line;
    return `${JSON.stringify({ sequence, at, stream, text })}\n`;
  }
  return opts.timestamps ? `${line.at} ${line.text}\n` : `${line.text}\n`;
}
