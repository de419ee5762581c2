/**
 * `logs --follow` on an action that has not started yet: wait for its first attempt, then follow it.
 * The execution's events (the `executionEvents` subscription) say when to read the execution again;
 * it is also read once the subscription is set up, so a start in between is not missed.
 */
import type { CommandContext } from "../context";
import { CliError } from "../errors";

/** Any event of the execution is a reason to read it again. */
export const EXECUTION_CHANGES_SUBSCRIPTION =
  "subscription($executionId:ID!){ executionEvents(executionId:$executionId){ sequence } }";

/** What `logs` reads of an execution: its status and its actions' attempts. */
export interface ExecutionActions {
  id: string;
  status: string;
  stages: {
    name: string;
    actions: {
      name: string;
      id: string | null;
      attempt: number;
      attempts: { id: string; attempt: number }[];
    }[];
  }[];
}

/** The action exists but its current attempt has not started (exit 1 without --follow). */
export class ActionNotStartedError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = "ActionNotStartedError";
  }
}

type Execution = ExecutionActions;

/** An execution in one of these statuses may still start actions. */
const RUNNING = new Set(["InProgress", "Stopping"]);

/**
 * Resolves with the started attempt's id (`select` returns it, or throws ActionNotStartedError while
 * it has not started), or undefined after Ctrl-C. Fails when the execution ends first.
 */
export async function waitForActionStart(
  ctx: CommandContext,
  execution: Execution,
  notStarted: string,
  select: (execution: Execution) => string,
  read: () => Promise<Execution | null>,
): Promise<string | undefined> {
  const controller = new AbortController();
  let started: string | undefined;
  let failure: unknown;
  /** Decides from an execution read: started (stop waiting), ended first (fail), or wait on. */
  const decide = (current: Execution): void => {
    try {
      started = select(current);
    } catch (err) {
      if (!(err instanceof ActionNotStartedError)) failure = err;
      else if (!RUNNING.has(current.status)) {
        failure = new CliError(`${err.message}, and execution ${current.id} ended ${current.status}`);
      }
    }
    if (started !== undefined || failure !== undefined) controller.abort();
  };
  decide(execution);
  if (controller.signal.aborted) return finish();

  ctx.notice(`${notStarted}; waiting for it to start (Ctrl-C stops waiting)`);
  let reads = Promise.resolve();
  const reread = () => {
    // One read at a time, in order: the last one sees the newest state.
    reads = reads.then(async () => {
      if (controller.signal.aborted) return;
      const current = await read();
      if (!current) failure = new CliError(`execution ${execution.id} not found`);
      else decide(current);
      if (failure !== undefined) controller.abort();
    });
    reads.catch((err: unknown) => {
      failure = err;
      controller.abort();
    });
  };
  let interrupted = false;
  const stopListening = ctx.onInterrupt(() => {
    interrupted = true;
    controller.abort();
  });
  try {
    await ctx.subscribe({
      query: EXECUTION_CHANGES_SUBSCRIPTION,
      variables: { executionId: execution.id },
      onConnected: reread,
      onData: reread,
      signal: controller.signal,
    });
    reread(); // the server completed the subscription: the execution has ended; read it a last time
    await reads.catch(() => undefined);
  } finally {
    stopListening();
  }
  if (interrupted && started === undefined) return undefined;
  return finish();

  function finish(): string {
    if (started !== undefined) return started;
    throw failure ?? new CliError(`${notStarted}, and execution ${execution.id} has no more events`);
  }
}
