import type { WebSocket } from "ws";
import type { Logger } from "../logger";
import type { DirectDelivery } from "./subscription-hub";

/**
 * How much a connection may leave unread before it is closed: a client that stopped reading
 * (a frozen tab, a stalled network) would otherwise hold the server's memory for ever, since
 * every event is queued for it. Its graphql-ws client reconnects and the dashboard refetches
 * what it missed.
 */
export const MAX_UNREAD_BYTES = 16 * 2 ** 20;

/** The close code for such a connection: 1013 "Try Again Later". */
export const TOO_SLOW_CLOSE_CODE = 1013;

/** The part of a `ws` WebSocket the delivery uses. */
type Socket = Pick<WebSocket, "readyState" | "bufferedAmount" | "send" | "close" | "OPEN">;

/** Writes one graphql-ws subscription's messages straight to its WebSocket (see SubscriptionHub). */
export function socketDelivery(
  socket: Socket,
  id: string,
  logger: Pick<Logger, "warn">,
  maxUnreadBytes = MAX_UNREAD_BYTES,
): DirectDelivery {
  return {
    id,
    send(message) {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > maxUnreadBytes) {
        logger.warn(
          { subscription: id, unreadBytes: socket.bufferedAmount },
          "closing a connection that stopped reading its subscription messages",
        );
        socket.close(TOO_SLOW_CLOSE_CODE, "Too many unread messages");
        return;
      }
      socket.send(message);
    },
  };
}
