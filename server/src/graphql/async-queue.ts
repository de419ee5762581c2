/**
 * An async iterator fed by pushes: what a GraphQL subscription returns. `close()` ends it; the
 * consumer's `return()` (client unsubscribed) runs `onClose` so the source can be detached.
 */
export function asyncQueue<T>(onClose: () => void): {
  push(value: T): void;
  /** Ends the iterator after the values already pushed. */
  close(): void;
  /** Ends the iterator with an error after the values already pushed. */
  fail(error: unknown): void;
  iterator: AsyncIterableIterator<T>;
} {
  const values: T[] = [];
  const waiting: Array<{ resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }> =
    [];
  let done = false;
  let ending: { error: unknown } | null = null;
  const finish = () => {
    if (done) return;
    done = true;
    onClose();
    for (const { resolve } of waiting.splice(0)) resolve({ value: undefined, done: true });
  };
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      const value = values.shift();
      if (value !== undefined) return Promise.resolve({ value, done: false });
      if (ending !== null && !done) {
        const { error } = ending;
        finish();
        if (error !== undefined) return Promise.reject(error);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return: () => {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return {
    push(value: T) {
      if (done || ending !== null) return;
      const waiter = waiting.shift();
      if (waiter) waiter.resolve({ value, done: false });
      else values.push(value);
    },
    close() {
      if (done || ending !== null) return;
      ending = { error: undefined };
      if (values.length === 0) finish();
    },
    fail(error: unknown) {
      if (done || ending !== null) return;
      ending = { error };
      if (values.length === 0) {
        const waiters = waiting.splice(0);
        finish();
        for (const { reject } of waiters) reject(error);
      }
    },
    iterator,
  };
}
