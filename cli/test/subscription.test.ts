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
      await new Promise((resolve) => setTimeout(resolve, 50)); // a late `error` event would fail the test
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
