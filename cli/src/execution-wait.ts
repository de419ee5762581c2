/**
 * Waiting for a pipeline execution to end, for `start-pipeline-execution --wait` and
 * `wait-pipeline-execution`.
 *
 * The execution's events come live from the `executionEvents` subscription (graphql-ws), and from
 * `pipelineExecution { events(afterSequence:) }` reads whenever the live stream may have missed
 * some: at the start, each time the subscription (re)connects, when an event's `sequence` skips
 * one, when the stream drops, and every `pollIntervalMs` as a safety net (an event lost while the
 * subscription was being set up, a server that cannot send events). Every event is reported once,
 * in sequence order. The wait ends when a read shows an ended status (so the summary is the
 * server's), at the timeout, or on an interrupt (Ctrl-C), which stops the waiting, not the execution.
 *
 * The server completes the subscription when the execution is final: a read follows. A dropped
 * stream is reconnected (with a growing delay); a refused one (a GraphQL error, a close
 * code of 4000 or more such as 4403 Forbidden) ends the wait with that error. A failed read after
 * the first one is retried at the next occasion when it is a connection problem or a 5xx.
 */
import { ConnectionError, ResponseError } from "./client";
import type { CommandContext } from "./context";
import { CliError, InterruptedError } from "./errors";
import { SubscriptionClosedError } from "./subscription";

const EVENT_FIELDS = "type sequence stageName actionName status at";
export const EXECUTION_EVENTS_SUBSCRIPTION = `subscription($executionId:ID!){ executionEvents(executionId:$executionId){ ${EVENT_FIELDS} } }`;
export const EXECUTION_PROGRESS_QUERY = `query($id:ID!,$afterSequence:Int!){ pipelineExecution(id:$id){ id pipelineName status statusSummary sequence stages{ name status actions{ name status summary } } events(afterSequence:$afterSequence){ ${EVENT_FIELDS} } } }`;

/** Statuses an execution does not leave by itself (a retry may resume a Failed or Stopped one). */
export const ENDED_STATUSES: readonly string[] = [
  "Succeeded",
  "Failed",
  "Stopped",
  "Superseded",
  "Cancelled",
];

export const DEFAULT_POLL_INTERVAL_MS = 10_000;
export const DEFAULT_RECONNECT_DELAY_MS = 1_000;
export const MAX_RECONNECT_DELAY_MS = 15_000;

export interface ExecutionEvent {
  type: string;
  /** Per execution, +1 per change. */
  sequence: number | null;
  stageName: string | null;
  actionName: string | null;
  status: string | null;
  at: string;
}

export interface ExecutionProgress {
  id: string;
  pipelineName: string;
  status: string;
  statusSummary: string | null;
  sequence: number;
  stages: {
    name: string;
    status: string | null;
    actions: { name: string; status: string | null; summary: string | null }[];
  }[];
}

interface ExecutionProgressData {
  pipelineExecution: (ExecutionProgress & { events: ExecutionEvent[] }) | null;
}

interface ExecutionEventData {
  executionEvents: ExecutionEvent;
}

export interface WaitOptions {
  executionId: string;
  /** Stop waiting after this long (default: no limit). */
  timeoutMs?: number;
  pollIntervalMs?: number;
  /** The first delay before reconnecting a dropped stream; it doubles up to MAX_RECONNECT_DELAY_MS. */
  reconnectDelayMs?: number;
}

export interface WaitResult {
  /** ended: a read showed an ended status; timedOut / interrupted: the execution may still run. */
  outcome: "ended" | "timedOut" | "interrupted";
  /** The last known state (the reported events applied); undefined if the first read had not answered. */
  execution: ExecutionProgress | undefined;
}

export type WaitContext = Pick<CommandContext, "request" | "subscribe" | "notice" | "onInterrupt">;

/** Follows the execution until it ends, the timeout passes or an interrupt; reports its events with `notice`. */
export function waitForExecution(ctx: WaitContext, options: WaitOptions): Promise<WaitResult> {
  return new ExecutionWaiter(ctx, options).run();
}

class ExecutionWaiter {
  private readonly id: string;
  private readonly timeoutMs: number | undefined;
  private readonly pollIntervalMs: number;
  private readonly reconnectDelayMs: number;
  /** The sequence of the last event reported. */
  private last = 0;
  private execution: ExecutionProgress | undefined;
  private finished = false;
  private resolveResult!: (result: WaitResult) => void;
  private rejectResult!: (error: unknown) => void;
  private readonly result = new Promise<WaitResult>((resolve, reject) => {
    this.resolveResult = resolve;
    this.rejectResult = reject;
  });
  private subscription: AbortController | undefined;
  private syncing = false;
  private syncAgain = false;
  private streamLost = false;
  private lastTrouble: string | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly ctx: WaitContext,
    options: WaitOptions,
  ) {
    this.id = options.executionId;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.reconnectDelayMs = options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS;
    this.timeoutMs = options.timeoutMs;
  }

  async run(): Promise<WaitResult> {
    const stopListening = this.ctx.onInterrupt(() => this.finish("interrupted"));
    const timeout =
      this.timeoutMs === undefined ? undefined : setTimeout(() => this.finish("timedOut"), this.timeoutMs);
    let poll: NodeJS.Timeout | undefined;
    let following: Promise<void> | undefined;
    // The first read decides whether there is anything to wait for; its errors end the wait.
    this.sync().then(
      () => {
        if (this.finished) return;
        poll = setInterval(() => this.requestSync(), this.pollIntervalMs);
        following = this.follow();
      },
      (err: unknown) => this.fail(err),
    );
    try {
      return await this.result;
    } finally {
      stopListening();
      clearTimeout(timeout);
      clearInterval(poll);
      this.subscription?.abort();
      this.wake?.();
      // The socket is closed before the command ends. (A read still in flight is left to finish
      // on its own: nothing waits for it, and its answer is ignored.)
      await following;
    }
  }

  /** Reads the execution and the events after the last one reported; ends the wait if it ended. */
  private async sync(): Promise<void> {
    const data = await this.ctx.request<ExecutionProgressData>(EXECUTION_PROGRESS_QUERY, {
      id: this.id,
      afterSequence: this.last,
    });
    if (this.finished) return;
    if (!data.pipelineExecution) throw new CliError(`execution ${this.id} not found`);
    const { events, ...execution } = data.pipelineExecution;
    // The state read is current: the events only need reporting.
    for (const event of events) this.report(event, false);
    this.execution = execution;
    this.lastTrouble = undefined;
    if (ENDED_STATUSES.includes(execution.status)) this.finish("ended");
  }

  /** Runs a sync now, or once more after the one under way; tolerates transient failures. */
  private requestSync(): void {
    if (this.finished) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    void (async () => {
      do {
        this.syncAgain = false;
        try {
          await this.sync();
        } catch (err) {
          if (this.finished) break;
          if (!isTransient(err)) {
            this.fail(err);
            break;
          }
          this.trouble(`could not read execution ${this.id} (${messageOf(err)}); trying again`);
        }
      } while (this.syncAgain && !this.finished);
      this.syncing = false;
    })();
  }

  /** Subscribes to the execution's events; on a drop, reads what was missed and subscribes again. */
  private async follow(): Promise<void> {
    let delay = this.reconnectDelayMs;
    while (!this.finished) {
      const controller = new AbortController();
      this.subscription = controller;
      let reason: string | null;
      try {
        await this.ctx.subscribe<ExecutionEventData>({
          query: EXECUTION_EVENTS_SUBSCRIPTION,
          variables: { executionId: this.id },
          signal: controller.signal,
          onConnected: () => {
            delay = this.reconnectDelayMs;
            if (this.streamLost) {
              this.streamLost = false;
              this.ctx.notice(`reconnected to the events of execution ${this.id}`);
            }
            // Whatever happened before the subscription listens is read instead.
            this.requestSync();
          },
          onData: (data) => this.onEvent(data.executionEvents),
        });
        // The server completes it once the execution is final: the read below brings the
        // summary and ends the wait (if a retry resumed the execution meanwhile, it goes on).
        reason = null;
      } catch (err) {
        if (this.finished) return;
        if (!isTransient(err)) return this.fail(err);
        reason = messageOf(err);
      }
      if (this.finished) return;
      if (reason !== null && !this.streamLost) {
        this.streamLost = true;
        this.ctx.notice(`lost the events of execution ${this.id} (${reason}); reconnecting`);
      }
      this.requestSync();
      await this.sleep(delay);
      delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
    }
  }

  private onEvent(event: ExecutionEvent): void {
    if (this.finished || event.sequence === null || event.sequence <= this.last) return;
    // A skipped sequence: the read brings the missing events (and this one) in order.
    if (event.sequence !== this.last + 1) return this.requestSync();
    this.report(event, true);
    // The summary of an ended execution is the server's: read it.
    if (event.type.startsWith("EXECUTION_") && ENDED_STATUSES.includes(event.status ?? "")) {
      this.requestSync();
    }
  }

  private report(event: ExecutionEvent, apply: boolean): void {
    if (event.sequence === null || event.sequence <= this.last) return;
    this.last = event.sequence;
    if (apply && this.execution) applyEvent(this.execution, event);
    this.ctx.notice(formatEvent(event, this.id));
  }

  /** A notice for a transient problem, once until it changes or a read succeeds. */
  private trouble(message: string): void {
    if (message === this.lastTrouble) return;
    this.lastTrouble = message;
    this.ctx.notice(message);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private finish(outcome: WaitResult["outcome"]): void {
    if (this.finished) return;
    this.finished = true;
    this.resolveResult({ outcome, execution: this.execution });
  }

  private fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.rejectResult(error);
  }
}

/** Worth trying again: the connection, the server restarting or overloaded, a stream dropped. */
function isTransient(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  if (err instanceof ResponseError) return err.status >= 500 || err.status === 429;
  // Close codes below 4000 are the WebSocket's own (1001 going away, 1012 restart, 1013 try again
  // later...); 4000 and up are graphql-ws refusals (4401, 4403...): reconnecting would not help.
  if (err instanceof SubscriptionClosedError) return err.code < 4000;
  return false;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Keeps the last known state current between reads (for the summary after a timeout or Ctrl-C). */
function applyEvent(execution: ExecutionProgress, event: ExecutionEvent): void {
  if (event.status === null) return;
  if (event.type.startsWith("EXECUTION_")) {
    if (event.type !== "EXECUTION_WAITING") execution.status = event.status;
    return;
  }
  const stage = execution.stages.find((s) => s.name === event.stageName);
  if (!stage) return;
  if (event.type.startsWith("STAGE_")) stage.status = event.status;
  else if (event.actionName !== null) {
    const action = stage.actions.find((a) => a.name === event.actionName);
    if (action) action.status = event.status;
  }
}

/** One line for people: `<time> <what> <how>`. */
export function formatEvent(event: ExecutionEvent, executionId: string): string {
  const stage = event.stageName ?? "?";
  const action = `action ${stage}/${event.actionName ?? "?"}`;
  const status = event.status ?? event.type;
  let text: string;
  switch (event.type) {
    case "EXECUTION_WAITING":
      text = `execution waiting to enter stage ${stage}`;
      break;
    case "APPROVAL_NEEDED":
      text =
        `${action} waits for approval: sluice put-approval-result --pipeline-execution-id ${shellWord(executionId)}` +
        ` --stage-name ${shellWord(stage)} --action-name ${shellWord(event.actionName ?? "?")} --approve`;
      break;
    case "APPROVAL_APPROVED":
      text = `${action} approved`;
      break;
    case "APPROVAL_REJECTED":
      text = `${action} rejected`;
      break;
    case "APPROVAL_TIMED_OUT":
      text = `${action} approval timed out`;
      break;
    case "ACTION_RETRY_SCHEDULED":
      text = `${action} failed; retry scheduled`;
      break;
    default:
      if (event.type.startsWith("EXECUTION_")) text = `execution ${status}`;
      else if (event.type.startsWith("STAGE_")) text = `stage ${stage} ${status}`;
      else if (event.actionName !== null) text = `${action} ${status}`;
      else text = event.type;
  }
  return `${event.at} ${text}`;
}

/** A word the shell reads as is: unchanged when it is safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.@:/=+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** What `--wait` prints: the execution and where each stage and action ended up. */
export function executionSummary(execution: ExecutionProgress) {
  return {
    pipelineExecutionId: execution.id,
    pipelineName: execution.pipelineName,
    status: execution.status,
    statusSummary: execution.statusSummary,
    stages: execution.stages.map((stage) => ({
      name: stage.name,
      status: stage.status,
      actions: stage.actions.map((a) => ({ name: a.name, status: a.status, summary: a.summary })),
    })),
  };
}

/**
 * Waits (see `waitForExecution`), prints the execution's summary on stdout, and throws unless it
 * succeeded: a CliError (exit 1) for any other end and for the timeout, an InterruptedError (exit
 * 130) for Ctrl-C.
 */
export async function waitAndReport(
  ctx: WaitContext & Pick<CommandContext, "print">,
  executionId: string,
  timeoutSeconds: number | undefined,
): Promise<void> {
  const { outcome, execution } = await waitForExecution(ctx, {
    executionId,
    ...(timeoutSeconds === undefined ? {} : { timeoutMs: timeoutSeconds * 1000 }),
  });
  if (execution) ctx.print(executionSummary(execution));
  const still = execution ? ` is still ${execution.status}` : "";
  switch (outcome) {
    case "ended": {
      if (execution!.status === "Succeeded") return;
      const summary = execution!.statusSummary ? `: ${execution!.statusSummary}` : "";
      throw new CliError(
        `execution ${executionId} of pipeline ${execution!.pipelineName} ended ${execution!.status}${summary}`,
      );
    }
    case "timedOut":
      throw new CliError(
        `timed out after ${timeoutSeconds} s: execution ${executionId}${still}; it goes on running (sluice stop-pipeline-execution --pipeline-execution-id ${shellWord(executionId)} stops it)`,
      );
    case "interrupted":
      throw new InterruptedError(
        `stopped waiting: execution ${executionId}${still}; it goes on running (sluice wait-pipeline-execution --pipeline-execution-id ${shellWord(executionId)} waits again)`,
      );
  }
}
