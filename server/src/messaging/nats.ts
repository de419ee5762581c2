import { connect, type Authenticator, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger";
import { ensureJetStream } from "./jetstream-setup";

/**
 * The server's NATS connection. It connects in the background and reconnects forever, so that
 * the server starts (and answers `/readyz` with 503) while NATS is down. After a reconnect it
 * makes the streams and the engine consumer again: a NATS server that restarted has lost the
 * in-memory events stream (and, without its file store, everything else).
 */
export class NatsLink {
  private connection: NatsConnection | null = null;
  private closing = false;
  /** Why the last connection attempt failed (null once connected): main.ts names it at start-up. */
  lastError: string | null = null;
  private readonly ready: Promise<void>;

  /**
   * `authenticator`: the server's own NATS credentials (nats-auth.ts); a NATS that does not ask for
   * them is refused. Without one (SLUICE_NATS_INSECURE=1) the server connects to a NATS without
   * authentication.
   */
  constructor(
    private readonly servers: string[],
    private readonly prefix: string,
    private readonly logger: Logger,
    /** SLUICE_NATS_REPLICAS, for the JetStream set-up after a reconnect. */
    private readonly replicas = 1,
    private readonly authenticator?: () => Promise<Authenticator>,
    /** After the set-up that follows a reconnect: the account's revocations pushed again. */
    private readonly afterReconnect?: () => Promise<void>,
    /** NATS over TLS, trusting this CA (SLUICE_NATS_CA_FILE). */
    private readonly caFile?: string,
  ) {
    this.ready = this.connectLoop();
  }

  /** Subject, stream and bucket names all start with the installation's prefix. */
  name(...parts: string[]): string {
    return [this.prefix, ...parts].join(".");
  }

  get nats(): NatsConnection | null {
    return this.connection;
  }

  /** Resolves once connected (or when closing before that). */
  connected(): Promise<void> {
    return this.ready;
  }

  /** Round trip to the server, or a reason it is not reachable. */
  async check(timeoutMs = 1000): Promise<{ ok: true; rttMs: number } | { ok: false; reason: string }> {
    const nc = this.connection;
    if (!nc || nc.isClosed()) return { ok: false, reason: "not connected" };
    try {
      const rttMs = await withTimeout(nc.rtt(), timeoutMs);
      return { ok: true, rttMs };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    const nc = this.connection;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }

  private async connectLoop(): Promise<void> {
    let attempt = 0;
    while (!this.closing) {
      try {
        const connection = await connect({
          servers: this.servers,
          name: "sluice-server",
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          waitOnFirstConnect: false,
          // nats.js otherwise makes two Error objects with stack traces for every request and
          // JetStream publish (about 2 % of the server's CPU under load); errors are logged by message.
          noAsyncTraces: true,
          ...(this.authenticator ? { authenticator: await this.authenticator() } : {}),
          ...(this.caFile ? { tls: { caFile: this.caFile } } : {}),
        });
        if (this.authenticator && connection.info?.auth_required !== true) {
          // Anyone could publish a job there: the server does not use it (SLUICE_NATS_INSECURE=1 does).
          await connection.close();
          throw new Error(
            "this NATS server does not require authentication: start nats-server with the configuration " +
              "Sluice writes (README, 'NATS on real hosts'), or set SLUICE_NATS_INSECURE=1 to use it anyway",
          );
        }
        this.connection = connection;
        this.lastError = null;
        this.logger.info({ servers: this.servers }, "connected to NATS");
        if (this.closing) await this.connection.close();
        else void this.watch(this.connection);
        return;
      } catch (error) {
        this.lastError = (error as Error).message;
        if (attempt++ === 0) {
          this.logger.warn(
            { servers: this.servers, err: (error as Error).message },
            "NATS is not reachable; retrying",
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * attempt)).unref());
      }
    }
  }

  /** Follows the connection's status: after every reconnect, JetStream set-up again. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") this.logger.warn("disconnected from NATS; reconnecting");
      if (status.type === "reconnect") {
        this.logger.info("reconnected to NATS");
        void this.setUpAgain(nc);
      }
    }
  }

  /** ensureJetStream until it succeeds, the connection is lost again, or the server closes. */
  private async setUpAgain(nc: NatsConnection): Promise<void> {
    for (let attempt = 1; !this.closing && !nc.isClosed(); attempt++) {
      try {
        await ensureJetStream(nc, this.prefix, { replicas: this.replicas });
        await this.afterReconnect?.();
        return;
      } catch (error) {
        if (attempt === 1)
          this.logger.warn(
            { err: (error as Error).message },
            "JetStream set-up after reconnect failed; retrying",
          );
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * attempt)).unref());
      }
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
