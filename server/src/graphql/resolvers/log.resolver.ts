import { Arg, Authorized, Ctx, ID, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import { DomainError, NotFoundError } from "../../domain/errors";
import type { LogLine } from "../../messaging/log-reader";
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

async function attemptEnded(ctx: GraphQLContext, actionExecutionId: string): Promise<boolean> {
  return ENDED.has((await attemptOf(ctx, actionExecutionId)).attempt.status);
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
      description: "Lines after this sequence; 0 or none: from the start.",
    })
    after: number | null,
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
    const found = await attemptOf(ctx, actionExecutionId);
    const complete = ENDED.has(found.attempt.status);
    const masked = await lineMasker(ctx, found);
    const start = Math.max(0, after ?? 0);
    const { lines, hasMore } = await ctx.logs.read(actionExecutionId, start, limit, complete);
    return {
      nodes: lines.map((line) => toType(masked(line))),
      hasNextPage: hasMore,
      endCursor: lines.at(-1)?.sequence ?? start,
      complete: complete && !hasMore,
    };
  }

  @Authorized("sluice:GetActionLog")
  @Subscription(() => LogLineType, {
    name: "actionLog",
    description:
      "Follows the log of one action execution: the stored lines after `after`, then new ones as the agent sends them. Completes when the attempt has ended and every line was sent.",
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const { actionExecutionId, after } = args as { actionExecutionId: string; after?: number | null };
      // It replays the stored lines first: a client joining another's stream would miss them.
      markPerClientStream(ctx);
      let stop = () => {};
      let closed = false;
      const queue = asyncQueue<LogLine>(() => {
        closed = true;
        stop();
      });
      void (async () => {
        const masked = await lineMasker(ctx, await attemptOf(ctx, actionExecutionId));
        const follower = await ctx.logs.follow(
          actionExecutionId,
          Math.max(0, after ?? 0),
          (line) => queue.push(masked(line)),
          () => attemptEnded(ctx, actionExecutionId),
          () => queue.close(),
        );
        stop = () => follower.stop();
        if (closed) follower.stop();
      })().catch((error: unknown) => queue.fail(error));
      return queue.iterator;
    },
  })
  actionLogLines(
    @Root() line: LogLine,
    @Arg("actionExecutionId", () => ID) _actionExecutionId: string,
    @Arg("after", () => Int, { nullable: true }) _after: number | null,
  ): LogLineType {
    return toType(line);
  }
}
