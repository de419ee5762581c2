import pino from "pino";

export type Logger = pino.Logger;

/** JSON logs on stdout; one logger per process, children carry request ids. */
export function createLogger(level: pino.LevelWithSilent): Logger {
  return pino({ level, base: { service: "sluice-server" }, timestamp: pino.stdTimeFunctions.isoTime });
}
