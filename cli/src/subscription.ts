/**
 * GraphQL subscriptions over WebSocket (the graphql-transport-ws protocol, via graphql-ws and ws).
 * The socket URL is the HTTP endpoint with http→ws (https→wss) and the same path; the token goes in
 * `connectionParams.authorization`. One subscription per connection, no reconnects: a dropped
 * connection is an error. Failures are typed like the HTTP client's:
 * - ConnectionError: the socket could not be opened, or was lost without a close frame.
 * - SubscriptionClosedError: the server closed the socket (e.g. 4403 Forbidden for a bad token).
 * - GraphQLRequestError: the server answered the subscription with GraphQL errors.
 */
import { createClient as createWsClient, type Client } from "graphql-ws/client";
import WebSocket from "ws";
import {
  ConnectionError,
  describeFetchFailure,
  GraphQLRequestError,
  isObject,
  toErrorEntry,
  type Variables,
} from "./client";

export interface SubscribeOptions {
  /** The HTTP(S) GraphQL endpoint; the socket URL is derived from it. */
  endpoint: string;
  token?: string | undefined;
}

export interface SubscriptionRequest<T> {
  query: string;
  variables?: Variables;
  /** Called with the `data` of each event, in order. A throw ends the subscription with that error. */
  onData(data: T): void;
  /** Aborting unsubscribes and resolves the subscription's promise (no error). */
  signal?: AbortSignal;
  /**
   * Called when the server has acknowledged the connection, right before the subscription is sent.
   * A throw ends the subscription with that error.
   */
  onConnected?(): void;
}

/**
 * Starts a subscription; resolves when the server completes it or `signal` aborts, rejects on the
 * first error. Always closes the socket before settling.
 */
export type Subscriber = <T>(request: SubscriptionRequest<T>) => Promise<void>;

export class SubscriptionClosedError extends Error {
  constructor(
    readonly url: string,
    readonly code: number,
    readonly reason: string,
  ) {
    super(`${url} closed the subscription: ${code}${reason ? ` ${reason}` : ""}`);
    this.name = "SubscriptionClosedError";
  }
}

/**
 * A `ws` WebSocket that always has an `error` listener. graphql-ws's `terminate()` closes a socket
 * that is still connecting and then drops its `onerror`; `ws` reports that close as an `error`
 * event, which would otherwise be unhandled (and end the process). While graphql-ws listens, it
 * still receives every error through `onerror`.
 */
export class QuietWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    this.on("error", () => {});
  }
}

/** `http://h:4000/graphql` → `ws://h:4000/graphql`; `https:` → `wss:`. */
export function webSocketUrl(endpoint: string): string {
  const url = new URL(endpoint);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export function createSubscriber(options: SubscribeOptions): Subscriber {
  const url = webSocketUrl(options.endpoint);
  return <T>(request: SubscriptionRequest<T>) =>
    new Promise<void>((resolve, reject) => {
      let connected = false;
      let settled = false;
      let unsubscribe: () => void = () => {};
      const client: Client = createWsClient({
        url,
        webSocketImpl: QuietWebSocket,
        ...(options.token ? { connectionParams: { authorization: `Bearer ${options.token}` } } : {}),
        retryAttempts: 0,
        on: {
          connected: () => {
            connected = true;
            try {
              request.onConnected?.();
            } catch (err) {
              finish(err);
            }
          },
        },
      });
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        request.signal?.removeEventListener("abort", onAbort);
        unsubscribe();
        // Not acknowledged yet: drop the handshake rather than wait for it (dispose would).
        if (!connected) client.terminate();
        const settle = () => (error === undefined ? resolve() : reject(error));
        void Promise.resolve(client.dispose()).then(settle, settle);
      };
      const onAbort = () => finish();
      if (request.signal?.aborted) return finish();
      request.signal?.addEventListener("abort", onAbort);
      unsubscribe = client.subscribe<T>(
        { query: request.query, variables: request.variables ?? {} },
        {
          next: (result) => {
            if (settled) return;
            try {
              if (Array.isArray(result.errors) && result.errors.length > 0) {
                throw new GraphQLRequestError(result.errors.map(toErrorEntry), 200);
              }
              if (!isObject(result.data)) throw new Error(`a subscription event from ${url} has no data`);
              request.onData(result.data as T);
            } catch (err) {
              finish(err);
            }
          },
          error: (err) => finish(describeSocketError(url, err, connected)),
          complete: () => finish(),
        },
      );
    });
}

/** graphql-ws reports GraphQL errors as an array, a closed socket as a CloseEvent, else an ErrorEvent. */
function describeSocketError(url: string, err: unknown, connected: boolean): Error {
  if (Array.isArray(err)) return new GraphQLRequestError(err.map(toErrorEntry), 200);
  if (isObject(err) && typeof err["code"] === "number" && "reason" in err) {
    const code = err["code"];
    const reason = typeof err["reason"] === "string" ? err["reason"] : "";
    // 1006: the connection dropped without a close frame (refused, reset, server gone).
    if (code !== 1006) return new SubscriptionClosedError(url, code, reason);
    return connected
      ? new ConnectionError(url, "the connection was lost", "lost the connection to")
      : new ConnectionError(url, "the connection closed before it was acknowledged");
  }
  const reason = describeFetchFailure(err);
  return connected
    ? new ConnectionError(url, reason, "lost the connection to")
    : new ConnectionError(url, reason);
}
