/**
 * The agent's own log: pino JSON lines on stderr (stdout stays free for nothing in particular, and
 * log shippers read stderr). The token and job configurations never reach it: paths that could
 * carry them are redacted as a second line of defence.
 */
import pino from "pino";

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.SLUICE_LOG_LEVEL ?? "info"): Logger {
  return pino(
    {
      name: "sluice-agent",
      level,
      redact: { paths: ["token", "*.token", "configuration", "*.configuration"], censor: "[redacted]" },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that writes nothing, for embedding and tests that do not want the noise. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
