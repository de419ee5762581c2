#!/usr/bin/env node
/**
 * `sluice`: a thin GraphQL client for Sluice in the style of the AWS CLI. `main()` never exits the
 * process: it takes the arguments and (injectable) I/O, and resolves with the exit code.
 */
import { Command, CommanderError } from "commander";
import { addInputOptions } from "./cli-input";
import { registerCommands } from "./commands";
import { register as registerCompletion } from "./completion";
import { contextFactory, DEFAULT_ENDPOINT, ENDPOINT_ENV, TOKEN_ENV, type Io } from "./context";
import { EXIT_OK, EXIT_USAGE } from "./errors";
import { addGlobalOptions, versionLine, wantsVersion } from "./global-options";
import { exitCodeFor, formatError } from "./output";
import { readSecretFromTty } from "./prompt";

const EXAMPLES = `
Examples:
  sluice list-pipelines --max-items 10
  sluice get-pipeline --name a > a.json
  sluice create-pipeline --cli-input-json file://a.json
  sluice get-pipeline --name a --format aws | sluice import-pipeline --cli-input-json -
  sluice start-pipeline-execution --name web --wait --timeout 1800
  sluice put-approval-result --pipeline-execution-id <id> --stage-name Prod --action-name Ok --approve
  sluice logs --execution <id> --action Build --follow
  sluice create-agent-token --description "build hosts"`;

export function buildProgram(io: Io): Command {
  const program = new Command("sluice")
    .description("Command-line client for the Sluice release-pipeline service (GraphQL).")
    .option("--endpoint <url>", `GraphQL endpoint (env ${ENDPOINT_ENV}, default ${DEFAULT_ENDPOINT})`)
    .option(
      "--token <token>",
      `bearer token sent as Authorization (env ${TOKEN_ENV}; default: the session of \`sluice login\`)`,
    )
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", EXAMPLES)
    .exitOverride();
  addGlobalOptions(program);
  registerCommands(program, contextFactory(io));
  addInputOptions(program, { readStdin: io.readStdin }, io.stdout);
  registerCompletion(program, io.stdout);
  return program;
}

/** Runs the CLI with `argv` (the arguments after the script name) and resolves with the exit code. */
export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const resolved: Io = {
    stdout: io.stdout ?? ((text) => void process.stdout.write(text)),
    stderr: io.stderr ?? ((text) => void process.stderr.write(text)),
    readStdin: io.readStdin ?? readProcessStdin,
    env: io.env ?? process.env,
    ...(io.fetch ? { fetch: io.fetch } : {}),
    ...(io.onInterrupt ? { onInterrupt: io.onInterrupt } : {}),
    ...(io.readSecret
      ? { readSecret: io.readSecret }
      : !io.readStdin && process.stdin.isTTY
        ? { readSecret: readSecretFromTty }
        : {}),
  };
  if (wantsVersion(argv)) {
    resolved.stdout(versionLine());
    return EXIT_OK;
  }
  try {
    await buildProgram(resolved).parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message (or the help). Help on request exits 0.
      if (err.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    resolved.stderr(formatError(err));
    return exitCodeFor(err);
  }
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Runs the CLI as the `sluice` process: `main` with the process's arguments, then exits with its code. */
export function run(argv: string[] = process.argv.slice(2)): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(EXIT_OK); // e.g. piped into `head`
    throw err;
  });
  void main(argv).then((code) => {
    // Exit once stdout is flushed: output piped to a file or process must not be cut short.
    process.stdout.write("", () => process.exit(code));
  });
}

if (require.main === module) run();
