import type { ClassType } from "type-graphql";
import { ArgsType, Field, Int, ObjectType } from "type-graphql";
import { DomainError } from "../../domain/errors";
import { cursorArgument, decodeCursor, encodeCursor, type PageQuery } from "../../persistence/cursor";

@ObjectType({ description: "Relay-style page information (GitHub's PageInfo)." })
export class PageInfo {
  @Field({ description: "More edges follow the last one: ask again with `after: endCursor`." })
  hasNextPage!: boolean;

  @Field({
    description:
      "More edges come before the first one: ask again with `before: startCursor`. Paging forward, true whenever `after` was given.",
  })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: "Cursor of the first edge; pass it as `before`." })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: "Cursor of the last edge; pass it as `after`." })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface ConnectionShape<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  /** Read only when the query asks for it (a getter: one COUNT, not one per page). */
  readonly totalCount: Promise<number>;
}

/** Builds `XConnection { edges { cursor node } nodes pageInfo totalCount }` and `XEdge` for a node type. */
export function Connection<T extends object>(nodeType: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field({ description: "Where this edge is: pass it as `after` or `before`." })
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => [nodeType], { description: "The nodes of `edges`, as a shortcut." })
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, {
      description: "How many items the whole list holds, with its filters, over every page.",
    })
    totalCount!: number;
  }
  return ConnectionType;
}

export const MAX_PAGE_SIZE = 100;

/** The paging arguments every connection field takes (GitHub's). */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export const PAGE_ARG_DESCRIPTIONS = {
  first: (byDefault: number) =>
    `The first n items after \`after\` (1–${MAX_PAGE_SIZE}; default ${byDefault}).`,
  after: "A cursor: the items after it.",
  last: `The last n items before \`before\` (1–${MAX_PAGE_SIZE}): paging backward.`,
  before: "A cursor: the items before it (with `last`).",
} as const;

/**
 * `first/after` (forward) or `last/before` (backward) as the stores read them; BAD_USER_INPUT,
 * with the argument's path, for a size out of 1..100 or a mix of both directions.
 */
export function pageQuery(args: PageArgs, defaultSize: number): PageQuery {
  const given = (v: unknown) => v !== null && v !== undefined;
  const backward = given(args.last) || given(args.before);
  if (backward && (given(args.first) || given(args.after))) {
    const path = given(args.first) ? "first" : "after";
    throw badPage(path, "Page forward with first/after or backward with last/before, not both.");
  }
  const sizeArg = backward ? "last" : "first";
  const size = (backward ? args.last : args.first) ?? defaultSize;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badPage(sizeArg, `${sizeArg} must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
  }
  return { size, cursor: (backward ? args.before : args.after) ?? null, backward };
}

function badPage(path: string, message: string): DomainError {
  return new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path, message }] });
}

/**
 * Turns a page the store read with `size + 1` rows (in the list's order, or against it when
 * paging backward) into a connection of mapped nodes, in the list's order.
 */
export function toConnection<R, T>(
  rows: R[],
  page: PageQuery,
  cursorOf: (row: R) => string,
  map: (row: R) => T,
  count: () => Promise<number>,
): ConnectionShape<T> {
  const more = rows.length > page.size;
  const taken = rows.slice(0, page.size);
  if (page.backward) taken.reverse();
  const edges = taken.map((row) => ({ cursor: cursorOf(row), node: map(row) }));
  const afterCursor = !page.backward && page.cursor !== null;
  const beforeCursor = page.backward && page.cursor !== null;
  let total: Promise<number> | null = null;
  return {
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage: page.backward ? beforeCursor : more,
      hasPreviousPage: page.backward ? more : afterCursor,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    get totalCount() {
      total ??= count();
      return total;
    },
  };
}

/**
 * A connection over a list read whole (one already filtered to what the caller may see, as the
 * small administrative lists are: users, roles, secrets...): ordered by `keyOf`, a unique tuple
 * per item, and paged with the same cursors (persistence/cursor.ts) and PageInfo as the lists the
 * stores page. totalCount is the length of the list.
 */
export function connectionOfList<T, N = T>(
  items: readonly T[],
  args: PageArgs,
  defaultSize: number,
  keyOf: (item: T) => Array<string | number>,
  map: (item: T) => N = (item) => item as unknown as N,
): ConnectionShape<N> {
  const page = pageQuery(args, defaultSize);
  const key = (item: T) => JSON.stringify(keyOf(item));
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const at =
    page.cursor === null ? null : decodeCursor<[string]>(page.cursor, ["string"], cursorArgument(page))[0];
  const rows = page.backward
    ? sorted.filter((item) => at === null || key(item) < at).reverse()
    : sorted.filter((item) => at === null || key(item) > at);
  return toConnection(
    rows.slice(0, page.size + 1),
    page,
    (item) => encodeCursor([key(item)]),
    map,
    async () => items.length,
  );
}

/** The default page of a list read whole. */
export const LIST_PAGE_SIZE = 50;

/** first/after/last/before as arguments of a connection field (@Args), for connectionOfList. */
@ArgsType()
export class PagingArgs implements PageArgs {
  @Field(() => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.first(LIST_PAGE_SIZE) })
  first?: number | null;

  @Field(() => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.after })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.last })
  last?: number | null;

  @Field(() => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.before })
  before?: string | null;
}
