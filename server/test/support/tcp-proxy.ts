import net from "node:net";

/**
 * A TCP proxy in front of a service (the shared NATS) that a test can cut and restore: cut closes
 * every connection through it and refuses new ones (accepted, then closed at once), so a client
 * of the proxy sees the service go away while the service itself and its other clients go on.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  private frozen = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    server.on("connection", (client) => proxy.accept(client, targetHost, targetPort));
    return proxy;
  }

  /** Closes every connection and refuses new ones until `restore()`. */
  disconnect(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.cut = false;
  }

  /**
   * Stops forwarding bytes, both ways, on every connection (they stay open), and holds new ones:
   * the service looks alive but never answers, like a frozen host.
   */
  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) socket.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const socket of this.sockets) socket.resume();
  }

  async close(): Promise<void> {
    this.disconnect();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: net.Socket, host: string, port: number): void {
    if (this.cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.pipe(to);
      if (this.frozen) from.pause();
      from.on("error", () => to.destroy());
      from.on("close", () => {
        to.destroy();
        this.sockets.delete(from);
      });
    }
  }
}
