import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";

/** Where the socket stands: `reconnecting` from the first close after a connection until the next one. */
export type ConnectionState = "connecting" | "connected" | "reconnecting";

export interface SluiceClientOptions {
  /** The GraphQL endpoint over HTTP; the WebSocket uses the same URL with ws(s):. */
  endpoint: string;
  /** The API token, sent as `Authorization: Bearer` and as graphql-ws `connectionParams.authorization`. */
  token: string;
  /** The server refused the token (UNAUTHENTICATED, or the socket closed with 4403). */
  onUnauthenticated(): void;
  onConnectionState(state: ConnectionState): void;
  /** The socket is back after a loss: data shown may be stale and should be fetched again. */
  onReconnected(): void;
}

export interface SluiceClient {
  client: Client;
  dispose(): void;
}

/** graphql-ws closes an unauthenticated connection with 4403 Forbidden. */
const FORBIDDEN = 4403;

/**
 * The browser's client: queries and mutations over HTTP POST, subscriptions over one graphql-ws
 * socket kept open (not lazy) so that a lost connection shows at once, retried forever with a
 * capped back-off. Create it in the browser only.
 */
export function createSluiceClient(options: SluiceClientOptions): SluiceClient {
  const authorization = `Bearer ${options.token}`;
  let connectedOnce = false;
  let disposed = false;
  const ws: WsClient = createWsClient({
    url: options.endpoint.replace(/^http/, "ws"),
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => !disposed,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 3000))),
    connectionParams: () => ({ authorization }),
    on: {
      connected: () => {
        options.onConnectionState("connected");
        if (connectedOnce) options.onReconnected();
        connectedOnce = true;
      },
      closed: (event) => {
        if (disposed) return;
        if ((event as CloseEvent | undefined)?.code === FORBIDDEN) options.onUnauthenticated();
        options.onConnectionState(connectedOnce ? "reconnecting" : "connecting");
      },
    },
  });
  const client = new Client({
    url: options.endpoint,
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({ headers: { authorization } }),
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          const refused =
            error.response?.status === 401 ||
            error.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
          if (refused) options.onUnauthenticated();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return {
    client,
    dispose() {
      disposed = true;
      void ws.dispose();
    },
  };
}
