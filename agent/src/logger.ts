/**
 * The agent's own log: pino JSON lines on stderr (stdout stays free for nothing in particular, and
 * log shippers read stderr). The token and job configurations never reach it: paths that could
 * carry them are redacted as a second line of defence.
 */
import pino from "pino";
import pretty from "pino-pretty";

export type Logger = pino.Logger;
export type LogFormat = "json" | "pretty";

/** Times in ISO 8601, as the server's; `pretty` (LOG_FORMAT=pretty) is for a person at a terminal. */
export function createLogger(
  level: string = process.env.SLUICE_LOG_LEVEL ?? "info",
  format: LogFormat = "json",
): Logger {
  const options: pino.LoggerOptions = {
    name: "sluice-agent",
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ["token", "*.token", "authorization", "*.authorization", "configuration", "*.configuration"],
      censor: "[redacted]",
    },
  };
  if (format === "pretty")
    return pino(options, pretty({ destination: 2, sync: true, translateTime: "SYS:isoDateTime" }));
  return pino(options, pino.destination({ fd: 2, sync: true }));
}

/** A logger that writes nothing, for embedding and tests that do not want the noise. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
