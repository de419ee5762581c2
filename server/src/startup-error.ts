/**
 * A reason the server cannot start that an operator fixes (a port in use, a database or NATS that
 * does not answer): main.ts prints its message as one line and exits 1, with no stack.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartupError";
  }
}

/** A URL without its credentials, to name what could not be reached. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(an invalid URL)";
  }
}

/** The short reason of a connection error: its code (ECONNREFUSED) when it has one. */
export function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : null;
  const message = typeof e?.message === "string" ? e.message.split("\n")[0]! : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
