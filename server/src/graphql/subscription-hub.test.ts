import { parse, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from "graphql";
import { asyncQueue } from "./async-queue";
import { SubscriptionHub } from "./subscription-hub";

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
const args = (variables: Record<string, unknown>, principal = "admin"): ExecutionArgs => ({
  schema: {} as GraphQLSchema,
  document: doc,
  variableValues: variables,
  contextValue: { principal: { id: principal, kind: "admin" } },
});

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
});
