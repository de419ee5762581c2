/** Polls `probe` until it returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Waits until a subscription listens. graphql-ws does not acknowledge a `subscribe`, so the proof
 * is an event: `trigger` makes a harmless change the subscription reports, and is repeated (a
 * change made before the subscription listened is not reported) until `arrived()` says one came.
 */
export async function untilSubscribed(
  trigger: () => Promise<unknown>,
  arrived: () => boolean,
  timeoutMs = 10000,
  what = "the subscription",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!arrived()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} to listen`);
    await trigger();
    await eventually(async () => arrived(), 300, what).catch(() => undefined);
  }
}
