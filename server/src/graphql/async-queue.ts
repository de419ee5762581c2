/**
 * An async iterator fed by pushes: what a GraphQL subscription returns. `close()` ends it; the
 * consumer's `return()` (client unsubscribed) runs `onClose` so the source can be detached.
 */
export function asyncQueue<T>(onClose: () => void): {
  push(value: T): void;
  iterator: AsyncIterableIterator<T>;
} {
  const values: T[] = [];
  const waiting: Array<(result: IteratorResult<T>) => void> = [];
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    onClose();
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
  };
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      const value = values.shift();
      if (value !== undefined) return Promise.resolve({ value, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
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
      if (done) return;
      const resolve = waiting.shift();
      if (resolve) resolve({ value, done: false });
      else values.push(value);
    },
    iterator,
  };
}
