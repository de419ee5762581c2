import { print, subscribe, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
import { asyncQueue } from "./async-queue";
import type { GraphQLContext } from "./context";

type SubscribeResult = AsyncIterable<ExecutionResult> | ExecutionResult;

/**
 * A client's own line for one subscription, offered by the transport (app.ts puts it in the
 * context of each graphql-ws subscription under DIRECT_DELIVERY). With it, the hub writes the
 * protocol's `next` messages itself: each event is serialized once for the whole group and each
 * member only prefixes its subscription id.
 */
export interface DirectDelivery {
  /** The subscription's id on its connection (graphql-transport-ws `id`). */
  readonly id: string;
  /** Writes one serialized protocol message to the connection, in order with the transport's own. */
  send(message: string): void;
}

export const DIRECT_DELIVERY = Symbol("sluice.directDelivery");

const PER_CLIENT = Symbol("sluice.perClientStream");

/**
 * Called by a subscription resolver whose stream depends on the moment it starts, not only on
 * its document, variables and principal: one that first replays history (`executionEvents`
 * with `afterSequence`, `actionLog`). A client joining such a stream late would miss the replay,
 * so the hub gives each of its clients a stream of its own.
 */
export function markPerClientStream(context: object): void {
  (context as { [PER_CLIENT]?: boolean })[PER_CLIENT] = true;
}

interface Member {
  /** `json` is the result serialized, made once per event for the members that write it themselves. */
  deliver(result: ExecutionResult, json: () => string): void;
  close(): void;
  fail(error: unknown): void;
}

/** One distinct subscription (same operation, variables and principal) and the clients sharing it. */
interface Group {
  members: Set<Member>;
  source: AsyncIterator<ExecutionResult>;
  /** Pumping starts with the first member, so that no event is read before anyone gets it. */
  started: boolean;
  ended: boolean;
  /** Its resolver asked for a stream per client (markPerClientStream): never shared. */
  perClient: boolean;
}

export interface SubscriptionHubOptions {
  /** Shapes a result before it is serialized for direct delivery (error formatting); applied once per event. */
  format?: (result: ExecutionResult) => unknown;
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
 *
 * Members whose transport offers a DirectDelivery go further: the result is serialized once and
 * written to each of their connections in one loop, instead of passing through a queue, an
 * async iteration, a promise per write and a JSON.stringify per client in graphql-ws. What is
 * left per client is one string concatenation and one socket write. Members without one (other
 * transports, tests) get the results through an async iterator as before.
 */
export class SubscriptionHub {
  private readonly groups = new Map<string, Promise<Group | ExecutionResult>>();
  /** The group each key's promise resolved to, so that it can be forgotten at once. */
  private readonly opened = new Map<string, Group>();
  private readonly printed = new WeakMap<DocumentNode, string>();
  private readonly format: (result: ExecutionResult) => unknown;

  constructor(
    private readonly run: (args: ExecutionArgs) => Promise<SubscribeResult> = subscribe,
    options: SubscriptionHubOptions = {},
  ) {
    this.format = options.format ?? ((result) => result);
  }

  /** graphql-ws's `subscribe` hook. */
  readonly subscribe = async (args: ExecutionArgs): Promise<SubscribeResult> => {
    const key = this.keyOf(args);
    let pending = this.groups.get(key);
    const opener = pending === undefined;
    if (pending === undefined) {
      pending = this.open(key, args);
      this.groups.set(key, pending);
    }
    let group = await pending;
    if ("members" in group && group.perClient && this.groups.get(key) === pending) this.groups.delete(key);
    if ("members" in group && (group.ended || (group.perClient && !opener))) {
      // Its source ended between opening and joining, or it is another client's own stream:
      // this client gets a stream of its own.
      group = await this.open(key, args);
    }
    if (!("members" in group)) {
      // An error (bad arguments, not authorized): nothing to share, and the next try starts anew.
      if (this.groups.get(key) === pending) this.groups.delete(key);
      return group;
    }
    const delivery = (args.contextValue as { [DIRECT_DELIVERY]?: DirectDelivery } | undefined)?.[
      DIRECT_DELIVERY
    ];
    return delivery ? this.joinDirect(key, group, delivery) : this.join(key, group);
  };

  /** Distinct subscriptions open now (for tests and metrics). */
  get size(): number {
    return this.groups.size;
  }

  private async open(key: string, args: ExecutionArgs): Promise<Group | ExecutionResult> {
    const result = await this.run(args);
    if (!(Symbol.asyncIterator in result)) return result;
    const perClient = (args.contextValue as { [PER_CLIENT]?: boolean } | undefined)?.[PER_CLIENT] === true;
    const group: Group = {
      members: new Set(),
      source: result[Symbol.asyncIterator](),
      started: false,
      ended: false,
      perClient,
    };
    if (!perClient) this.opened.set(key, group);
    return group;
  }

  private join(key: string, group: Group): AsyncIterable<ExecutionResult> {
    const queue = asyncQueue<ExecutionResult>(() => this.leave(key, group, member));
    const member: Member = {
      deliver: (result) => queue.push(result),
      close: queue.close,
      fail: queue.fail,
    };
    this.add(key, group, member);
    return queue.iterator;
  }

  /**
   * A member that writes its messages itself. graphql-ws still owns the subscription: it gets an
   * iterator that yields nothing and ends when the group ends (graphql-ws then sends `complete`,
   * after every `next` written here) or fails (graphql-ws sends `error`); the client's
   * `complete` calls its `return()`, which takes the member out.
   */
  private joinDirect(
    key: string,
    group: Group,
    delivery: DirectDelivery,
  ): AsyncIterableIterator<ExecutionResult> {
    const prefix = `{"id":${JSON.stringify(delivery.id)},"type":"next","payload":`;
    let settle: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
    let reject: ((error: unknown) => void) | null = null;
    let outcome: { error: unknown } | "done" | null = null;
    const end = (how: { error: unknown } | "done") => {
      if (outcome !== null) return;
      outcome = how;
      if (how === "done") settle?.({ value: undefined, done: true });
      else reject?.(how.error);
    };
    const member: Member = {
      deliver: (_result, json) => {
        if (outcome === null) delivery.send(`${prefix}${json()}}`);
      },
      close: () => end("done"),
      fail: (error) => end({ error }),
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next: () => {
        if (outcome === "done") return Promise.resolve({ value: undefined, done: true });
        if (outcome !== null) return Promise.reject(outcome.error);
        return new Promise((resolve, fail) => {
          settle = resolve;
          reject = fail;
        });
      },
      return: () => {
        this.leave(key, group, member);
        end("done");
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    this.add(key, group, member);
    return iterator;
  }

  private add(key: string, group: Group, member: Member): void {
    group.members.add(member);
    if (!group.started) {
      group.started = true;
      void this.pump(key, group);
    }
  }

  private leave(key: string, group: Group, member: Member): void {
    if (!group.members.delete(member)) return;
    if (group.members.size === 0) this.end(key, group);
  }

  private async pump(key: string, group: Group): Promise<void> {
    try {
      for (;;) {
        const next = await group.source.next();
        if (next.done) break;
        const result = next.value;
        let json: string | null = null;
        const serialized = () => (json ??= JSON.stringify(this.format(result)));
        for (const member of group.members) member.deliver(result, serialized);
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
