import { Arg, Authorized, Ctx, ID, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import { DomainError, NotFoundError } from "../../domain/errors";
import { decodeLogCursor, encodeLogCursor, type LogLine, type LogPosition } from "../../messaging/log-reader";
import { asyncQueue } from "../async-queue";
import type { GraphQLContext } from "../context";
import { markPerClientStream } from "../subscription-hub";
import { logMasker } from "../secrets";
import { LogLineConnectionType, LogLineType, type LogStreamEnum } from "../types/log.type";

const MAX_PAGE = 10_000;
const ENDED = new Set(["Succeeded", "Failed", "Abandoned"]);

async function attemptOf(ctx: GraphQLContext, actionExecutionId: string) {
  const found = await ctx.engine.findAttempt(actionExecutionId);
  if (!found) throw new NotFoundError(`No action execution ${actionExecutionId} exists.`);
  return found;
}

/**
 * Where a read starts: after the cursor's line, or after line `after` (0 or none: the start).
 * Both may be given when they agree (a client that keeps the line number too).
 */
function startOf(
  ctx: GraphQLContext,
  actionExecutionId: string,
  after: number | null | undefined,
  afterCursor: string | null | undefined,
): LogPosition {
  if (afterCursor === null || afterCursor === undefined) {
    return ctx.logs.positionAfterLine(actionExecutionId, Math.max(0, after ?? 0));
  }
  const position = decodeLogCursor(actionExecutionId, afterCursor);
  const problem =
    position === null
      ? "afterCursor is not a cursor of this action execution's log."
      : after !== null && after !== undefined && Math.max(0, after) !== position.line
        ? `after (${after}) and afterCursor (after line ${position.line}) name different lines; give one of them.`
        : null;
  if (problem !== null || position === null) {
    const message = problem ?? "afterCursor is not valid.";
    throw new DomainError("BAD_USER_INPUT", message, {
      validationErrors: [{ path: "afterCursor", message }],
    });
  }
  return position;
}

/** How the API shows a log line: its attempt's secret values masked (graphql/secrets.ts). */
async function lineMasker(
  ctx: GraphQLContext,
  found: Awaited<ReturnType<typeof attemptOf>>,
): Promise<(line: LogLine) => LogLine> {
  const mask = await logMasker(ctx, found.actionTypeId, found.attempt.resolvedConfiguration);
  return (line) => {
    const text = mask(line.text);
    return text === line.text ? line : { ...line, text };
  };
}

const toType = (line: LogLine): LogLineType => ({ ...line, stream: line.stream as LogStreamEnum });

@Resolver(() => LogLineType)
export class LogResolver {
  @Authorized("sluice:GetActionLog")
  @Query(() => LogLineConnectionType, {
    description: "The log of one action execution (one attempt), line by line, in order.",
  })
  async actionLog(
    @Ctx() ctx: GraphQLContext,
    @Arg("actionExecutionId", () => ID) actionExecutionId: string,
    @Arg("after", () => Int, {
      nullable: true,
      description:
        "Lines after this sequence; 0 or none: from the start. Paging with `afterCursor` is cheaper on long logs.",
    })
    after: number | null,
    @Arg("afterCursor", () => String, {
      nullable: true,
      description: "Lines after this `cursor` of an earlier page (opaque): the page is read from there.",
    })
    afterCursor: string | null,
    @Arg("first", () => Int, {
      nullable: true,
      description: `At most this many lines (default 1000, at most ${MAX_PAGE}).`,
    })
    first: number | null,
  ): Promise<LogLineConnectionType> {
    const limit = first ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      const message = `first must be from 1 to ${MAX_PAGE}; it is ${limit}.`;
      throw new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path: "first", message }] });
    }
    const start = startOf(ctx, actionExecutionId, after, afterCursor);
    const found = await attemptOf(ctx, actionExecutionId);
    const complete = ENDED.has(found.attempt.status);
    const masked = await lineMasker(ctx, found);
    const { lines, hasMore, next } = await ctx.logs.read(actionExecutionId, start, limit, complete);
    return {
      nodes: lines.map((line) => toType(masked(line))),
      hasNextPage: hasMore,
      endCursor: lines.at(-1)?.sequence ?? start.line,
      cursor: encodeLogCursor(actionExecutionId, next),
      complete: complete && !hasMore,
    };
  }

  @Authorized("sluice:GetActionLog")
  @Subscription(() => LogLineType, {
    name: "actionLog",
    description:
      "Follows the log of one action execution: the stored lines after `after` (or `afterCursor`), then new ones as the agent sends them. Completes when the attempt has ended and every line was sent.",
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const { actionExecutionId, after, afterCursor } = args as {
        actionExecutionId: string;
        after?: number | null;
        afterCursor?: string | null;
      };
      const start = startOf(ctx, actionExecutionId, after, afterCursor);
      // It replays the stored lines first: a client joining another's stream would miss them.
      markPerClientStream(ctx);
      let follower: { stop(): void; end(): void } | null = null;
      let ended = false;
      let closed = false;
      // The attempt's final state event ends the follow; listened to before its state is read.
      const detach = ctx.events.listen((event) => {
        if (event.actionExecutionId !== actionExecutionId || !ENDED.has(event.status ?? "")) return;
        ended = true;
        follower?.end();
      });
      const queue = asyncQueue<LogLine>(() => {
        closed = true;
        detach();
        follower?.stop();
      });
      void (async () => {
        const found = await attemptOf(ctx, actionExecutionId);
        if (ENDED.has(found.attempt.status)) ended = true;
        const masked = await lineMasker(ctx, found);
        const started = await ctx.logs.follow(
          actionExecutionId,
          start,
          (line) => queue.push(masked(line)),
          () => {
            detach();
            queue.close();
          },
          (error) => queue.fail(error),
        );
        follower = started;
        if (closed) started.stop();
        else if (ended) started.end();
      })().catch((error: unknown) => {
        detach();
        queue.fail(error);
      });
      return queue.iterator;
    },
  })
  actionLogLines(
    @Root() line: LogLine,
    @Arg("actionExecutionId", () => ID) _actionExecutionId: string,
    @Arg("after", () => Int, { nullable: true }) _after: number | null,
    @Arg("afterCursor", () => String, { nullable: true }) _afterCursor: string | null,
  ): LogLineType {
    return toType(line);
  }
}
