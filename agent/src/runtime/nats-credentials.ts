/**
 * The agent's NATS credentials when NATS runs with authentication (PROTOCOL.md section 11): the
 * agent makes its own user key pair (the seed never leaves this process), sends the public key
 * with its Sluice agent token to the server (`POST /agents/nats-credentials`), and connects with the
 * short-lived user JWT the server signs for it. It renews the JWT after two thirds of its life; a
 * refusal (the token was revoked) is final.
 */
import { jwtAuthenticator, type Authenticator } from "@nats-io/transport-node";
import { createUser, type KeyPair } from "@nats-io/nkeys";
import {
  NATS_CREDENTIALS_PATH,
  natsCredentialsReplySchema,
  type ActionTypeId,
  type NatsCredentialsReply,
} from "@sluice/protocol";
import type { Logger } from "../logger";
import { Backoff, errorMessage, sleep } from "./util";

/** The server refused the agent's token (401/403): the agent exits with status 3. */
export class CredentialsRefused extends Error {
  override readonly name = "CredentialsRefused";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface CredentialsRequest {
  name: string;
  pool: string;
  providers: ActionTypeId[];
}

export class NatsCredentials {
  private readonly key: KeyPair = createUser();
  private current: NatsCredentialsReply | null = null;
  /** When the server last answered with credentials (ms since the epoch). */
  fetchedAt = 0;

  constructor(
    private readonly serverUrl: string,
    private readonly token: string,
    private readonly request: CredentialsRequest,
    private readonly logger: Logger,
  ) {}

  get credentials(): NatsCredentialsReply {
    if (!this.current) throw new Error("no NATS credentials yet");
    return this.current;
  }

  /** For nats.js: asked at every (re)connect, so a renewed JWT is used from the next connect on. */
  authenticator(): Authenticator {
    return jwtAuthenticator(
      () => this.credentials.jwt,
      () => this.key.getSeed(),
    );
  }

  /** Asks once. Throws CredentialsRefused on 401/403/409 (final) and an Error otherwise. */
  async fetchOnce(): Promise<NatsCredentialsReply> {
    const url = new URL(NATS_CREDENTIALS_PATH, this.serverUrl).toString();
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ ...this.request, publicKey: this.key.getPublicKey() }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    const error = (body as { error?: unknown } | null)?.error;
    const why = typeof error === "string" ? error : `HTTP ${response.status}`;
    if ([400, 401, 403, 409].includes(response.status)) throw new CredentialsRefused(response.status, why);
    if (!response.ok) throw new Error(`the server answered ${response.status}: ${why}`);
    const parsed = natsCredentialsReplySchema.safeParse(body);
    if (!parsed.success)
      throw new Error(`unreadable NATS credentials from the server: ${parsed.error.message}`);
    this.current = parsed.data;
    this.fetchedAt = Date.now();
    return parsed.data;
  }

  /** Asks until the server answers (retrying while it is unreachable); a refusal is thrown. */
  async fetch(signal?: AbortSignal, backoff = new Backoff(250, 10_000)): Promise<NatsCredentialsReply> {
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new Error("abandoned: the agent is stopping");
      try {
        return await this.fetchOnce();
      } catch (error) {
        if (error instanceof CredentialsRefused) throw error;
        const delay = backoff.next();
        const log =
          attempt === 1 || attempt % 10 === 0
            ? this.logger.warn.bind(this.logger)
            : this.logger.debug.bind(this.logger);
        log({ attempt, retryInMs: delay, err: errorMessage(error) }, "cannot get NATS credentials; retrying");
        await sleep(delay, signal);
      }
    }
  }

  /**
   * Renews after two thirds of each JWT's life until `signal` aborts; `renewed` runs after each
   * renewal (the agent reconnects with it), `refused` once when the server refuses.
   */
  async renewLoop(
    signal: AbortSignal,
    renewed: () => void,
    refused: (error: CredentialsRefused) => void,
  ): Promise<void> {
    while (!signal.aborted) {
      const expiresAt = Date.parse(this.credentials.expiresAt);
      const lifeMs = Math.max(0, expiresAt - Date.now());
      await sleep(Math.max(1000, (lifeMs * 2) / 3), signal);
      if (signal.aborted) return;
      try {
        await this.fetch(signal);
        this.logger.info({ expiresAt: this.credentials.expiresAt }, "NATS credentials renewed");
        renewed();
      } catch (error) {
        if (error instanceof CredentialsRefused) {
          refused(error);
          return;
        }
        if (!signal.aborted)
          this.logger.error({ err: errorMessage(error) }, "renewing NATS credentials failed");
      }
    }
  }
}
