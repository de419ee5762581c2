import { print, subscribe, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
import { asyncQueue } from "./async-queue";
import type { GraphQLContext } from "./context";

type SubscribeResult = AsyncIterable<ExecutionResult> | ExecutionResult;

/** One distinct subscription (same operation, variables and principal) and the clients sharing it. */
interface Group {
  members: Set<{ push(result: ExecutionResult): void; close(): void; fail(error: unknown): void }>;
  source: AsyncIterator<ExecutionResult>;
  /** Pumping starts with the first member, so that no event is read before anyone gets it. */
  started: boolean;
  ended: boolean;
}

/**
 * Executes each distinct subscription once per event, however many clients hold it.
 *
 * graphql-js runs a subscription's selection set for every client and every event: with a
 * thousand dashboards watching one pipeline, one change is executed a thousand times over to
 * produce the same result (bench/RESULTS.md, fan-out). Here the clients that subscribed with the
 * same document, operation name and variables, as the same principal, share one source stream:
 * each event is executed once and the result handed to every member. The principal is part of
 * the key, so a result is only ever shared between requests that the same authorization applies
 * to. The source stream ends when its last member leaves.
 */
export class SubscriptionHub {
  private readonly groups = new Map<string, Promise<Group | ExecutionResult>>();
  /** The group each key's promise resolved to, so that it can be forgotten at once. */
  private readonly opened = new Map<string, Group>();
  private readonly printed = new WeakMap<DocumentNode, string>();

  constructor(private readonly run: (args: ExecutionArgs) => Promise<SubscribeResult> = subscribe) {}

  /** graphql-ws's `subscribe` hook. */
  readonly subscribe = async (args: ExecutionArgs): Promise<SubscribeResult> => {
    const key = this.keyOf(args);
    let pending = this.groups.get(key);
    if (pending === undefined) {
      pending = this.open(key, args);
      this.groups.set(key, pending);
    }
    let group = await pending;
    if ("members" in group && group.ended) {
      // Its source ended between opening and joining: this client gets a stream of its own.
      group = await this.open(key, args);
    }
    if (!("members" in group)) {
      // An error (bad arguments, not authorized): nothing to share, and the next try starts anew.
      if (this.groups.get(key) === pending) this.groups.delete(key);
      return group;
    }
    return this.join(key, group);
  };

  /** Distinct subscriptions open now (for tests and metrics). */
  get size(): number {
    return this.groups.size;
  }

  private async open(key: string, args: ExecutionArgs): Promise<Group | ExecutionResult> {
    const result = await this.run(args);
    if (!(Symbol.asyncIterator in result)) return result;
    const group: Group = {
      members: new Set(),
      source: result[Symbol.asyncIterator](),
      started: false,
      ended: false,
    };
    this.opened.set(key, group);
    return group;
  }

  private join(key: string, group: Group): AsyncIterable<ExecutionResult> {
    const member = asyncQueue<ExecutionResult>(() => {
      group.members.delete(member);
      if (group.members.size === 0) this.end(key, group);
    });
    group.members.add(member);
    if (!group.started) {
      group.started = true;
      void this.pump(key, group);
    }
    return member.iterator;
  }

  private async pump(key: string, group: Group): Promise<void> {
    try {
      for (;;) {
        const next = await group.source.next();
        if (next.done) break;
        for (const member of group.members) member.push(next.value);
      }
      this.forget(key, group);
      for (const member of group.members) member.close();
    } catch (error) {
      this.forget(key, group);
      for (const member of group.members) member.fail(error);
    }
  }

  private end(key: string, group: Group): void {
    this.forget(key, group);
    void group.source.return?.();
  }

  private forget(key: string, group: Group): void {
    group.ended = true;
    if (this.opened.get(key) !== group) return;
    this.opened.delete(key);
    this.groups.delete(key);
  }

  private keyOf(args: ExecutionArgs): string {
    let text = this.printed.get(args.document);
    if (text === undefined) {
      text = print(args.document);
      this.printed.set(args.document, text);
    }
    const context = args.contextValue as Partial<GraphQLContext> | undefined;
    const principal = context?.principal ? `${context.principal.kind}:${context.principal.id}` : "anonymous";
    return JSON.stringify([principal, args.operationName ?? null, text, args.variableValues ?? {}]);
  }
}
