import { createServer, type Socket } from "node:net";
import { createSubscriber } from "../src/subscription";

describe("createSubscriber", () => {
  it("resolves when aborted while the WebSocket handshake is still pending (no unhandled error)", async () => {
    // Accepts TCP connections and never answers the HTTP upgrade.
    const sockets: Socket[] = [];
    let accepted!: () => void;
    const connected = new Promise<void>((resolve) => (accepted = resolve));
    const server = createServer((socket) => {
      sockets.push(socket);
      accepted();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const controller = new AbortController();
      const subscription = createSubscriber({ endpoint: `http://127.0.0.1:${port}/graphql` })({
        query: "subscription { x }",
        onData: () => {},
        signal: controller.signal,
      });
      await connected;
      controller.abort();
      await expect(subscription).resolves.toBeUndefined();
      // The client has closed its end once the server sees the socket close: an `error` the abort
      // caused has been emitted by then, and an unhandled one would fail the test.
      await Promise.all(
        sockets.map((socket) =>
          socket.closed ? undefined : new Promise((resolve) => socket.once("close", resolve)),
        ),
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
