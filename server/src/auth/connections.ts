import type { Logger } from "../logger";
import type { Authenticator } from "./authenticate";

/** A long-lived connection that can be closed: a graphql-ws socket. */
export interface Closable {
  close(code: number, reason: string): void;
}

/** The close code (graphql-ws' Forbidden, which its clients do not retry) and its reason. */
export const REVOKED_CLOSE = {
  code: 4403,
  reason: "Forbidden: the token was revoked or has expired",
} as const;

/**
 * The open graphql-ws connections and the credential each was opened with. `recheck` closes the
 * ones whose credential no longer authenticates (a revoked or expired token, a deleted owner);
 * it runs at once when a token is revoked in this process, and every `intervalMs` for the other
 * server copies' revocations and for expiries (the authenticator's cache adds at most its TTL).
 */
export class ConnectionRegistry {
  private readonly open = new Map<Closable, unknown>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly logger: Logger,
    private readonly intervalMs = 2_000,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Tracks a connection until the returned function is called (on its close). */
  add(connection: Closable, credential: unknown): () => void {
    this.open.set(connection, credential);
    return () => this.open.delete(connection);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.recheck(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Closes every connection whose credential no longer authenticates. */
  recheck(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    for (const [connection, credential] of [...this.open]) {
      try {
        if ((await this.authenticator.authenticate(credential)) === null) {
          this.open.delete(connection);
          connection.close(REVOKED_CLOSE.code, REVOKED_CLOSE.reason);
        }
      } catch (error) {
        // The database is unreachable: keep the connection, look again next time.
        this.logger.warn({ err: (error as Error).message }, "connection credential not rechecked");
        return;
      }
    }
  }
}
