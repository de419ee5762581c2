/**
 * What a command needs at run time, built from the global options (`--endpoint`, `--token`), the
 * environment and the injected I/O: a GraphQL client (HTTP and WebSocket), printers and the input reader.
 */
import type { Command } from "commander";
import { createClient, type GraphQLClient } from "./client";
import { CredentialStore, credentialsFile } from "./credentials";
import { UsageError } from "./errors";
import { readCliInputJson } from "./input";
import { applyQuery, formatOutput, operationName, type OutputFormat } from "./format";
import type { Writer } from "./output";
import { createSubscriber, type Subscriber } from "./subscription";

export const DEFAULT_ENDPOINT = "http://127.0.0.1:4000/graphql";
export const ENDPOINT_ENV = "SLUICE_ENDPOINT";
export const TOKEN_ENV = "SLUICE_TOKEN";

export interface Io {
  stdout: Writer;
  stderr: Writer;
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /**
   * Calls `handler` on an interrupt (Ctrl-C) until the returned function is called. Defaults to
   * SIGINT; while a handler is installed, SIGINT no longer ends the process by itself.
   */
  onInterrupt?(handler: () => void): () => void;
  /**
   * Prompts on the terminal and reads a secret without echo; absent when stdin is not a terminal
   * (commands then need `--password-stdin`).
   */
  readSecret?(prompt: string): Promise<string>;
}

export interface CommandContext {
  /** Sends a GraphQL operation to the resolved endpoint and resolves with its data. */
  request: GraphQLClient;
  /** Starts a GraphQL subscription over WebSocket on the same endpoint, with the same token. */
  subscribe: Subscriber;
  /** Prints a command's result on stdout: `--query` applied, then in the `--output` format (JSON by default). */
  print(value: unknown): void;
  /** The `--output` given, if any (commands that print lines, like `logs`, have their own default). */
  output: OutputFormat | undefined;
  /** Writes text as is on stdout. */
  write(text: string): void;
  /** Writes a message line on stderr (for people, not scripts). */
  notice(message: string): void;
  /** See `Io.onInterrupt`. */
  onInterrupt(handler: () => void): () => void;
  /** Reads and parses a `--cli-input-json` value. */
  readInput(spec: string): Promise<unknown>;
  /** The GraphQL endpoint the command talks to. */
  endpoint: string;
  /** Where `sluice login` keeps sessions; null when no file can be named (no HOME). */
  credentials: CredentialStore | null;
  /** A client for the endpoint with another token (logout signs out the stored session). */
  requestWith(token: string | undefined): GraphQLClient;
  /** All of stdin. */
  readStdin(): Promise<string>;
  /** See `Io.readSecret`. */
  readSecret: Io["readSecret"];
}

/** Builds the context of the command being run (reads its options merged with the program's). */
export type ContextFactory = (command: Command) => CommandContext;

export interface GlobalOptions {
  endpoint?: string;
  token?: string;
  output?: OutputFormat;
  query?: string;
}

export function contextFactory(io: Io): ContextFactory {
  return (command) => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    const endpoint = resolveEndpoint(globals.endpoint, io.env);
    const file = credentialsFile(io.env);
    const credentials = file ? new CredentialStore(file) : null;
    // --token, then SLUICE_TOKEN, then the session `sluice login` stored for this endpoint.
    const token = globals.token ?? (io.env[TOKEN_ENV] || credentials?.session(endpoint)?.token);
    const requestWith = (t: string | undefined) =>
      createClient({ endpoint, token: t || undefined, ...(io.fetch ? { fetch: io.fetch } : {}) });
    return {
      request: requestWith(token),
      requestWith,
      endpoint,
      credentials,
      readStdin: io.readStdin,
      readSecret: io.readSecret,
      subscribe: createSubscriber({ endpoint, token: token || undefined }),
      print: (value) => {
        const result = applyQuery(value, globals.query);
        io.stdout(formatOutput(result, globals.output ?? "json", operationName(command.name())));
      },
      output: globals.output,
      write: (text) => io.stdout(text),
      notice: (message) => io.stderr(`${message}\n`),
      readInput: (spec) => readCliInputJson(spec, { readStdin: io.readStdin }),
      onInterrupt: io.onInterrupt ?? onSigint,
    };
  };
}

function onSigint(handler: () => void): () => void {
  process.once("SIGINT", handler);
  return () => void process.off("SIGINT", handler);
}

export function resolveEndpoint(option: string | undefined, env: Record<string, string | undefined>): string {
  const fromEnv = env[ENDPOINT_ENV];
  const [value, source] =
    option !== undefined
      ? [option, "--endpoint"]
      : fromEnv
        ? [fromEnv, ENDPOINT_ENV]
        : [DEFAULT_ENDPOINT, "default endpoint"];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`invalid ${source} ${JSON.stringify(value)}: not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`invalid ${source} ${JSON.stringify(value)}: expected an http:// or https:// URL`);
  }
  return value;
}
