/**
 * The AWS CLI's global options: `--output`, `--query`, `--no-cli-pager` and `--version`. They may be
 * given before or after the command name; every command gets them, and so will any new command.
 */
import { Option, type Command } from "commander";
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { dirname, join } from "node:path";
import { checkQuery, OUTPUT_FORMATS } from "./format";
import type { GlobalOptions } from "./context";

/** The CLI's version: that of its package.json, the nearest above this file (in src/ or dist/src/). */
export function cliVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string };
      if (manifest.version) return manifest.version;
    } catch {
      // no package.json here: look further up
    }
  }
  return "unknown";
}

/** `sluice/0.1.0 node/v22.1.0 linux/6.8.0`, in the AWS CLI's `aws-cli/2.x Python/3.x Linux/...` style. */
export function versionLine(): string {
  return `sluice/${cliVersion()} node/${process.version} ${process.platform}/${release()}\n`;
}

/** Global options that take a value (their value is not a command name). */
const VALUE_OPTIONS = new Set(["--endpoint", "--token", "--output", "--query"]);

/**
 * Whether the command line asks for the version: `--version` before any command name. After a command
 * name, `--version` is that command's (e.g. delete-custom-action-type --version 1), as in the AWS CLI;
 * that is why it is not a commander option of the program (those are recognized anywhere).
 */
export function wantsVersion(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--version") return true;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith("-")) return false;
  }
  return false;
}

export function addGlobalOptions(program: Command): void {
  program
    .addOption(
      new Option("--output <format>", "output format (default json; `logs` prints lines by default)").choices(
        OUTPUT_FORMATS,
      ),
    )
    .option("--query <jmespath>", "JMESPath expression applied to the result before it is formatted")
    .option("--no-cli-pager", "accepted for AWS CLI compatibility: sluice never pages its output")
    .addHelpText(
      "afterAll",
      "\nsluice --version prints the CLI's version (sluice/<v> node/<v> <os>/<release>).",
    )
    .hook("preAction", (_program, action) => {
      checkQuery(action.optsWithGlobals<GlobalOptions>().query);
    });
}
