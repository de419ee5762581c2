/**
 * Pagination as the AWS CLI does it for list commands: every page by default, `--page-size` items per
 * request, `--max-items` in all (the output then carries a `NextToken` when more items remain),
 * `--starting-token` to go on from such a token, `--no-paginate` for one request only.
 *
 * The token is opaque to the user: base64url of the server's cursor that led to the page and the
 * offset within that page, so `--max-items` may stop in the middle of a page and the next call resumes
 * exactly there, whatever its `--page-size`.
 */
import type { Command } from "commander";
import { CliError, UsageError } from "./errors";
import { positiveInt } from "./options";

export interface Page<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface PaginationOptions {
  pageSize?: number;
  startingToken?: string;
  maxItems?: number;
  paginate: boolean;
}

export interface Paginated<T> {
  items: T[];
  /** Set when items remain after those returned. */
  nextToken?: string;
}

interface Position {
  after: string | null;
  skip: number;
}

/** Adds the AWS CLI's pagination options to a list command. */
export function addPaginationOptions(command: Command, defaultPageSize: number): Command {
  return command
    .option("--page-size <n>", `items per request to the server (default ${defaultPageSize})`, positiveInt)
    .option("--max-items <n>", "stop after this many items; the output then has a NextToken", positiveInt)
    .option("--starting-token <token>", "go on from the NextToken of a previous call")
    .option("--no-paginate", "make one request only (one page)");
}

export function encodeToken(position: Position): string {
  return Buffer.from(JSON.stringify({ after: position.after, skip: position.skip })).toString("base64url");
}

export function decodeToken(token: string): Position {
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<Position>;
    const afterOk = value.after === null || typeof value.after === "string";
    if (afterOk && Number.isSafeInteger(value.skip) && value.skip! >= 0) {
      return { after: value.after!, skip: value.skip! };
    }
  } catch {
    // reported below
  }
  throw new UsageError(`invalid --starting-token ${JSON.stringify(token)}: not a NextToken sluice printed`);
}

/**
 * Reads pages with `fetchPage(first, after)` as the options say. `defaultPageSize` is the page size
 * when `--page-size` is not given (a request never asks for more than it can print).
 */
export async function paginate<T>(
  options: PaginationOptions,
  defaultPageSize: number,
  fetchPage: (first: number, after: string | null) => Promise<Page<T>>,
): Promise<Paginated<T>> {
  let { after, skip } = options.startingToken ? decodeToken(options.startingToken) : { after: null, skip: 0 };
  const items: T[] = [];
  for (;;) {
    const remaining = options.maxItems === undefined ? Infinity : options.maxItems - items.length;
    const first = options.pageSize ?? Math.min(defaultPageSize, skip + remaining);
    const page = await fetchPage(first, after);
    const { hasNextPage, endCursor } = page.pageInfo;
    for (let index = skip; index < page.nodes.length; index++) {
      if (options.maxItems !== undefined && items.length >= options.maxItems) {
        return { items, nextToken: encodeToken({ after, skip: index }) };
      }
      items.push(page.nodes[index]!);
    }
    if (!hasNextPage) return { items };
    if (!endCursor || endCursor === after) {
      throw new CliError(
        `cannot follow pages: hasNextPage is true but endCursor is ${JSON.stringify(endCursor)}`,
      );
    }
    const full = options.maxItems !== undefined && items.length >= options.maxItems;
    if (full || !options.paginate) return { items, nextToken: encodeToken({ after: endCursor, skip: 0 }) };
    after = endCursor;
    skip = 0;
  }
}

/** `{ [key]: items }`, followed by `NextToken` when there are more, as the AWS CLI prints a list. */
export function listOutput<T>(key: string, result: Paginated<T>): Record<string, unknown> {
  return result.nextToken === undefined
    ? { [key]: result.items }
    : { [key]: result.items, NextToken: result.nextToken };
}

/** The selection of a connection's page that `paginate` and `allNodes` read. */
export const PAGE_FIELDS = "pageInfo{ hasNextPage endCursor }";

/** Every node of a connection, page after page: for the lists a command prints whole. */
export async function allNodes<T>(
  fetchPage: (first: number, after: string | null) => Promise<Page<T>>,
  pageSize = 100,
): Promise<T[]> {
  return (await paginate({ paginate: true, pageSize }, pageSize, fetchPage)).items;
}
