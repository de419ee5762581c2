/**
 * What a fake server's subscription resolver returns: an async iterator fed by `push`, that a
 * client's `complete` (graphql-ws calling `return()`) ends at once. Hand-written: an async
 * generator waiting at an `await` could not be returned early.
 */
export function pushable<T>(options: { initial?: T[]; endWhenDrained?: boolean; onEnd?: () => void } = {}) {
  const queue = [...(options.initial ?? [])];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let done = false;
  let markEnded!: () => void;
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const end = (): IteratorResult<T> => {
    if (!done) {
      done = true;
      options.onEnd?.();
      markEnded();
      waiting?.({ done: true, value: undefined });
    }
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => iterator,
    next: async () => {
      const next = queue.shift();
      if (next !== undefined) return { done: false, value: next };
      if (done || options.endWhenDrained) return end();
      return new Promise<IteratorResult<T>>((resolve) => (waiting = resolve));
    },
    return: async () => end(),
  };
  return {
    iterator,
    /** Resolves once the iterator ended (drained, or returned by the client). */
    ended,
    push(value: T): void {
      if (done) return;
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve({ done: false, value });
      } else queue.push(value);
    },
  };
}
