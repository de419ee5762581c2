import { AsyncLocalStorage } from "node:async_hooks";
import http from "node:http";
import type { SluiceServer } from "@sluice/server/dist/src/app";

/** The header that names a request whose SQL statements are counted. */
export const COUNT_HEADER = "x-bench-count";

interface Tally {
  statements: string[];
  /** Time from sending each statement to its result, summed (statements of one request run one at a time). */
  sqlMs: number;
}

type Query = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Counts the SQL statements the in-process server sends to PostgreSQL for each HTTP request,
 * without changing the server: it wraps the `query` of the pool's pg Client (what TypeORM sends
 * every statement through, BEGIN and COMMIT included) and runs each incoming request marked with
 * COUNT_HEADER in an AsyncLocalStorage context, which follows the request's promise chain into
 * the driver. Statements of background work (the outbox relay, the timer loop) run outside any
 * request's context and are not counted.
 */
export class SqlCounter {
  private readonly storage = new AsyncLocalStorage<Tally>();
  private readonly tallies = new Map<string, Tally>();
  private readonly undo: Array<() => void> = [];

  install(db: SluiceServer["db"]): void {
    const pool = (db.driver as unknown as { master?: { Client?: { prototype: { query: Query } } } }).master;
    const proto = pool?.Client?.prototype;
    if (!proto) throw new Error("the DataSource's driver has no pg pool (master.Client): not PostgreSQL?");
    const storage = this.storage;
    const query = proto.query;
    proto.query = function (this: unknown, ...args: unknown[]) {
      const tally = storage.getStore();
      if (!tally) return query.apply(this, args);
      const first = args[0];
      const text = typeof first === "string" ? first : String((first as { text?: string })?.text ?? first);
      tally.statements.push(text.replace(/\s+/g, " ").trim());
      const started = process.hrtime.bigint();
      const result = query.apply(this, args);
      if (result instanceof Promise) {
        void result.then(
          () => (tally.sqlMs += Number(process.hrtime.bigint() - started) / 1e6),
          () => undefined,
        );
      }
      return result;
    };
    this.undo.push(() => (proto.query = query));

    type Emit = (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
    const original = http.Server.prototype.emit;
    const emit = original as Emit;
    const tallies = this.tallies;
    http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
      if (event === "request") {
        const id = (args[0] as http.IncomingMessage).headers[COUNT_HEADER];
        if (typeof id === "string") {
          const tally: Tally = { statements: [], sqlMs: 0 };
          tallies.set(id, tally);
          return storage.run(tally, () => emit.call(this, event, ...args));
        }
      }
      return emit.call(this, event, ...args);
    } as typeof original;
    this.undo.push(() => (http.Server.prototype.emit = original));
  }

  /** The statements of the request sent with `COUNT_HEADER: id`, and their time (forgotten afterwards). */
  take(id: string): Tally {
    const tally = this.tallies.get(id);
    this.tallies.delete(id);
    return tally ?? { statements: [], sqlMs: 0 };
  }

  uninstall(): void {
    for (const undo of this.undo.splice(0).reverse()) undo();
  }
}
