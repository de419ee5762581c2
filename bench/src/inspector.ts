import WebSocket from "ws";

/**
 * A minimal Chrome DevTools Protocol client for a child process started with
 * `--inspect=127.0.0.1:0`: the bench uses it to run a full garbage collection in the server
 * before reading its memory, so that the figure does not depend on when V8 last collected.
 */
export async function collectGarbage(debuggerUrl: string): Promise<{ usedHeapBytes: number }> {
  const socket = new WebSocket(debuggerUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.on("message", (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const call = <T>(method: string): Promise<T> =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, (result) => resolve(result as T));
      socket.send(JSON.stringify({ id, method }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    const usage = await call<{ usedSize: number }>("Runtime.getHeapUsage");
    return { usedHeapBytes: usage.usedSize };
  } finally {
    socket.close();
  }
}
