/**
 * Which NATS client errors pass with time, in one place for the server and the agent (PROTOCOL.md
 * 12.7): NATS, or the JetStream behind it, is not reachable now. On a NATS cluster this includes
 * the seconds of a leader election after a node is lost: requests to a stream or consumer whose
 * leader is away time out, find no responders, or are answered 503 ("JetStream system temporarily
 * unavailable"). This package has no NATS dependency: errors are recognised by name, status and
 * message.
 */

/** nats.js errors (by name) that mean "NATS, or the JetStream behind it, is not reachable now". */
const TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "ConnectionError",
  "NoResponders",
  "NoRespondersError",
  "JetStreamNotEnabled",
  "DrainingConnectionError",
]);

/** Names of errors that never pass with time, whatever their message says. */
const PERMANENT_NAMES = new Set([
  "PermissionViolationError",
  "AuthorizationError",
  "UserAuthenticationExpiredError",
]);

/** What the messages of such errors say when they come wrapped (RequestError, a stream error). */
const TRANSIENT_MESSAGE =
  /timeout|timed out|no responders|disconnect|connection (?:closed|lost|refused|reset)|ECONNREFUSED|ECONNRESET|EPIPE|stream is not current|jetstream (?:system )?(?:not|temporarily) (?:enabled|unavailable)|temporarily unavailable|cluster (?:not available|unavailable)|no (?:stream |consumer )?leader|leader (?:not|unknown|changed)|leadership change|heartbeats? missed|\b503\b/i;

/** True when a NATS request that failed with `error` may succeed if tried again later. */
export function isTransientNatsError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const { name, code, status, message } = e as {
      name?: string;
      code?: unknown;
      status?: unknown;
      message?: string;
    };
    if (name && PERMANENT_NAMES.has(name)) return false;
    if (name && TRANSIENT_NAMES.has(name)) return true;
    // JetStream's "no responders" status (the stream's leader is away) and its API's 503
    // (nats.js 3 puts the API's HTTP-like code in `status`, its error code in `code`).
    if (code === 503 || code === "503" || status === 503 || status === "503") return true;
    if (typeof message === "string" && TRANSIENT_MESSAGE.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
