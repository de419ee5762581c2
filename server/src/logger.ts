import pino from "pino";
import pretty from "pino-pretty";

export type Logger = pino.Logger;
export type LogFormat = "json" | "pretty";

/**
 * Paths a log line may never carry in clear: credentials in case a caller logs a header, a config
 * or a registration. A second line of defence: the request log logs no header and no body.
 */
export const REDACTED_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "token",
  "*.token",
  "adminToken",
  "*.adminToken",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "clientSecret",
  "*.clientSecret",
];

/**
 * JSON logs on stdout, times in ISO 8601 (as the agent's); one logger per process, children carry
 * request ids. `pretty` (LOG_FORMAT=pretty) is for a person at a terminal: the same fields, colored.
 */
export function createLogger(level: pino.LevelWithSilent, format: LogFormat = "json"): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "sluice-server" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
  if (format === "pretty") return pino(options, pretty({ sync: true, translateTime: "SYS:isoDateTime" }));
  return pino(options);
}
