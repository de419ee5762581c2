/**
 * CLI-side error types. Every error that reaches `main()` is turned into `error: ...` lines on
 * stderr and an exit code: 2 for a usage problem (bad option, unreadable or invalid input),
 * 130 when Ctrl-C stopped a wait, 1 for everything else (API errors, unreachable endpoint,
 * unexpected responses).
 */

/** The command line or its input is wrong; nothing was sent, or sending it could not help. Exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The request was made but the outcome is a failure (e.g. the pipeline does not exist). Exit 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Ctrl-C (SIGINT) stopped the command before it got its answer, e.g. while waiting. Exit 130. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InterruptedError";
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** 128 + SIGINT, as shells report a command Ctrl-C ended. */
export const EXIT_INTERRUPTED = 130;
