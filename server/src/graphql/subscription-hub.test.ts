import { parse, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from "graphql";
import { asyncQueue } from "./async-queue";
import {
  DIRECT_DELIVERY,
  SubscriptionHub,
  markPerClientStream,
  type DirectDelivery,
} from "./subscription-hub";

/** A fake `subscribe`: each call opens a source the test pushes results into. */
function fakeSubscribe() {
  const sources: Array<{ push(r: ExecutionResult): void; close(): void; closed: boolean }> = [];
  const run = async (_args: ExecutionArgs) => {
    const entry = { closed: false } as { push(r: ExecutionResult): void; close(): void; closed: boolean };
    const queue = asyncQueue<ExecutionResult>(() => (entry.closed = true));
    entry.push = queue.push;
    entry.close = queue.close;
    sources.push(entry);
    return queue.iterator;
  };
  return { run, sources };
}

const doc = parse("subscription ($p: String) { pipelineEvents(pipelineName: $p) { type } }");
const args = (
  variables: Record<string, unknown>,
  principal = "admin",
  delivery?: DirectDelivery,
): ExecutionArgs => ({
  schema: {} as GraphQLSchema,
  document: doc,
  variableValues: variables,
  contextValue: {
    principal: { id: principal, kind: "admin" },
    ...(delivery ? { [DIRECT_DELIVERY]: delivery } : {}),
  },
});

/** A DirectDelivery that keeps what it was sent. */
function line(id: string) {
  const sent: string[] = [];
  return { id, sent, send: (message: string) => void sent.push(message) };
}

async function take(iterable: AsyncIterable<ExecutionResult> | ExecutionResult, n: number) {
  const iterator = (iterable as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
  const out: ExecutionResult[] = [];
  for (let i = 0; i < n; i++) out.push((await iterator.next()).value);
  return { out, iterator };
}

describe("SubscriptionHub", () => {
  it("runs one source for identical subscriptions and gives every member each result", async () => {
    const fake = fakeSubscribe();
    const hub = new SubscriptionHub(fake.run);
    const a = await hub.subscribe(args({ p: "web" }));
    const b = await hub.subscribe(args({ p: "web" }));
    expect(fake.sources).toHaveLength(1);
    const first = { data: { n: 1 } };
    fake.sources[0]!.push(first);
    fake.sources[0]!.push({ data: { n: 2 } });
    const [ra, rb] = await Promise.all([take(a, 2), take(b, 2)]);
    expect(ra.out[0]).toBe(first);
    expect(rb.out.map((r) => r.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("gives each client its own source when the resolver marks its stream per client (a replay)", async () => {
    const fake = fakeSubscribe();
    const hub = new SubscriptionHub(async (a) => {
      markPerClientStream(a.contextValue as object);
      return fake.run(a);
    });
    // Both ask before the first source is open, and once more after: four sources, nothing shared.
    const [a, b] = await Promise.all([hub.subscribe(args({ p: "web" })), hub.subscribe(args({ p: "web" }))]);
    const c = await hub.subscribe(args({ p: "web" }));
    await hub.subscribe(args({ p: "web" }));
    expect(fake.sources).toHaveLength(4);
    expect(hub.size).toBe(0);
    fake.sources[0]!.push({ data: { n: 1 } });
    fake.sources[1]!.push({ data: { n: 2 } });
    fake.sources[2]!.push({ data: { n: 3 } });
    const taken = await Promise.all([take(a, 1), take(b, 1), take(c, 1)]);
    expect(taken.map((t) => t.out[0]!.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("keeps subscriptions with other variables or another principal apart", async () => {
    const fake = fakeSubscribe();
    const hub = new SubscriptionHub(fake.run);
    await hub.subscribe(args({ p: "web" }));
    await hub.subscribe(args({ p: "api" }));
    await hub.subscribe(args({ p: "web" }, "someone-else"));
    expect(fake.sources).toHaveLength(3);
    expect(hub.size).toBe(3);
  });

  it("closes the source when the last member leaves, and opens a new one for the next client", async () => {
    const fake = fakeSubscribe();
    const hub = new SubscriptionHub(fake.run);
    const a = (await hub.subscribe(args({ p: "web" }))) as AsyncIterable<ExecutionResult>;
    const b = (await hub.subscribe(args({ p: "web" }))) as AsyncIterable<ExecutionResult>;
    await a[Symbol.asyncIterator]().return!();
    expect(fake.sources[0]!.closed).toBe(false);
    await b[Symbol.asyncIterator]().return!();
    expect(fake.sources[0]!.closed).toBe(true);
    expect(hub.size).toBe(0);
    await hub.subscribe(args({ p: "web" }));
    expect(fake.sources).toHaveLength(2);
  });

  it("ends every member when the source ends", async () => {
    const fake = fakeSubscribe();
    const hub = new SubscriptionHub(fake.run);
    const a = await hub.subscribe(args({ p: "web" }));
    const b = await hub.subscribe(args({ p: "web" }));
    fake.sources[0]!.push({ data: { n: 1 } });
    fake.sources[0]!.close();
    for (const member of [a, b]) {
      const iterator = (member as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toEqual({ data: { n: 1 } });
      expect((await iterator.next()).done).toBe(true);
    }
    expect(hub.size).toBe(0);
  });

  it("does not share an error result", async () => {
    let calls = 0;
    const hub = new SubscriptionHub(async () => {
      calls++;
      return { errors: [] };
    });
    expect(await hub.subscribe(args({}))).toEqual({ errors: [] });
    expect(await hub.subscribe(args({}))).toEqual({ errors: [] });
    expect(calls).toBe(2);
    expect(hub.size).toBe(0);
  });

  describe("direct delivery", () => {
    it("serializes each result once and writes a graphql-ws next message per member, in order", async () => {
      const fake = fakeSubscribe();
      let formatted = 0;
      const hub = new SubscriptionHub(fake.run, {
        format: (result) => {
          formatted++;
          return { ...result, formatted: true };
        },
      });
      const lines = ["a", 'b"quoted', "c"].map(line);
      for (const l of lines) await hub.subscribe(args({ p: "web" }, "admin", l));
      expect(fake.sources).toHaveLength(1);
      fake.sources[0]!.push({ data: { n: 1 } });
      fake.sources[0]!.push({ data: { n: 2 } });
      await new Promise((resolve) => setImmediate(resolve));
      expect(formatted).toBe(2);
      for (const l of lines) {
        expect(l.sent.map((m) => JSON.parse(m))).toEqual([
          { id: l.id, type: "next", payload: { data: { n: 1 }, formatted: true } },
          { id: l.id, type: "next", payload: { data: { n: 2 }, formatted: true } },
        ]);
      }
    });

    it("shares a source with members reading through an iterator", async () => {
      const fake = fakeSubscribe();
      const hub = new SubscriptionHub(fake.run);
      const direct = line("1");
      await hub.subscribe(args({ p: "web" }, "admin", direct));
      const queued = await hub.subscribe(args({ p: "web" }));
      expect(fake.sources).toHaveLength(1);
      const result = { data: { n: 1 } };
      fake.sources[0]!.push(result);
      const { out } = await take(queued, 1);
      expect(out[0]).toBe(result);
      expect(direct.sent).toEqual(['{"id":"1","type":"next","payload":{"data":{"n":1}}}']);
    });

    it("ends the member's iterator after its last message when the source ends", async () => {
      const fake = fakeSubscribe();
      const hub = new SubscriptionHub(fake.run);
      const direct = line("1");
      const iterable = (await hub.subscribe(
        args({ p: "web" }, "admin", direct),
      )) as AsyncIterable<ExecutionResult>;
      const iterator = iterable[Symbol.asyncIterator]();
      const ended = iterator.next().then((r) => ({ done: r.done, sentBefore: direct.sent.length }));
      fake.sources[0]!.push({ data: { n: 1 } });
      fake.sources[0]!.close();
      expect(await ended).toEqual({ done: true, sentBefore: 1 });
      expect(hub.size).toBe(0);
    });

    it("fails the member's iterator when the source fails, so graphql-ws sends an error", async () => {
      const failure = new Error("source broke");
      const hub = new SubscriptionHub(async () => ({
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(failure) }),
      }));
      const iterable = (await hub.subscribe(args({}, "admin", line("1")))) as AsyncIterable<ExecutionResult>;
      await expect(iterable[Symbol.asyncIterator]().next()).rejects.toBe(failure);
    });

    it("stops writing to a member that completed, and closes the source when the last one leaves", async () => {
      const fake = fakeSubscribe();
      const hub = new SubscriptionHub(fake.run);
      const [a, b] = [line("a"), line("b")];
      const ia = (await hub.subscribe(
        args({ p: "web" }, "admin", a),
      )) as AsyncIterableIterator<ExecutionResult>;
      const ib = (await hub.subscribe(
        args({ p: "web" }, "admin", b),
      )) as AsyncIterableIterator<ExecutionResult>;
      const pendingA = ia.next();
      await ia.return!();
      expect(await pendingA).toEqual({ value: undefined, done: true });
      fake.sources[0]!.push({ data: { n: 1 } });
      await new Promise((resolve) => setImmediate(resolve));
      expect(a.sent).toEqual([]);
      expect(b.sent).toHaveLength(1);
      expect(fake.sources[0]!.closed).toBe(false);
      await ib.return!();
      expect(fake.sources[0]!.closed).toBe(true);
      expect(hub.size).toBe(0);
    });
  });
});
